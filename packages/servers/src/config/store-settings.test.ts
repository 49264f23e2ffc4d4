import { describe, expect, it } from 'vitest';
import type * as z from 'zod/mini';
import type { AuthMode } from '../auth/authenticator.js';
import type { CliContext } from '../cli/command.js';
import { runCli } from '../cli/run.js';
import { controllerOptions, controlPlaneOptions } from '../cli/server-options.js';
import { describeSettings } from './describe.js';
import { ConfigError } from './errors.js';
import { loadConfig } from './load.js';
import { readFlags } from './read-flags.js';
import { ControllerConfigSchema, ControlPlaneConfigSchema } from './schemas.js';

const settings = describeSettings(ControlPlaneConfigSchema);
const NONE: AuthMode[] = [{ type: 'none', namespace: 'default' }];

async function load(argv: string[], env: Record<string, string> = {}) {
  const flags = readFlags('control-plane', argv, settings);
  return (await loadConfig(ControlPlaneConfigSchema, settings, { flags, env, cwd: import.meta.dirname })).config;
}

async function problems(
  argv: string[],
  env: Record<string, string> = {},
  schema: z.core.$ZodType = ControlPlaneConfigSchema,
) {
  const s = describeSettings(schema);
  const flags = readFlags('control-plane', argv, s);
  const err = await loadConfig(schema, s, { flags, env, cwd: import.meta.dirname }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return (err as ConfigError).problems;
}

describe('etcd store settings', () => {
  it('--store etcd://… puts both stores on etcd', async () => {
    const config = await load(['--store', 'etcd://10.0.0.1:2379,etcd-1:2379']);
    const endpoints = ['http://10.0.0.1:2379', 'http://etcd-1:2379'];
    expect(config.registry.store).toMatchObject({ type: 'etcd', endpoints, timeout: 5_000 });
    expect(config.controller.store).toMatchObject({ type: 'etcd', endpoints });
    const options = controlPlaneOptions(config, NONE);
    expect(options.registry?.store).toEqual({
      type: 'etcd',
      endpoints,
      prefix: undefined,
      tls: {},
      username: undefined,
      password: undefined,
      passwordFile: undefined,
      requestTimeoutMs: 5_000,
    });
    expect(options.controller?.store).toMatchObject({ type: 'etcd', endpoints });
  });

  it('WEFT_STORE does the same, etcds:// means TLS, and explicit per-server settings win', async () => {
    const config = await load(['--registry-store', 'memory', '--controller-store-prefix', '/team-a'], {
      WEFT_STORE: 'etcds://etcd-0:2379',
    });
    expect(config.registry.store.type).toBe('memory');
    expect(config.controller.store).toMatchObject({
      type: 'etcd',
      endpoints: ['https://etcd-0:2379'],
      prefix: '/team-a',
    });
    const own = await load(['--store', 'etcd://a:2379', '--controller-store-endpoints', 'http://b:2379']);
    expect(own.controller.store.endpoints).toEqual(['http://b:2379']);
    expect(own.registry.store.endpoints).toEqual(['http://a:2379']);
  });

  it('without --store, stores stay in memory', async () => {
    const config = await load([]);
    expect(config.registry.store.type).toBe('memory');
    expect(config.controller.store.type).toBe('memory');
  });

  it('names the bad field: an endpoint, a missing list, the short form, credentials', async () => {
    expect(await problems(['--registry-store', 'etcd', '--registry-store-endpoints', 'http://a:2379,nope'])).toEqual([
      'registry.store.endpoints[1] = "nope" (from --registry-store-endpoints): must be an http:// or https:// URL of an etcd member (http://host:2379)',
    ]);
    expect(await problems(['--controller-store', 'etcd'])).toEqual([
      'controller.store.endpoints: is required when controller.store.type is etcd (or give store: etcd://host:2379,…)',
    ]);
    expect(await problems(['--store', 'http://a:2379'])).toEqual([
      'store = "http://a:2379" (from --store): must be etcd://host:port[,host:port…] (etcds:// for TLS)',
    ]);
    expect(await problems(['--store', 'etcd://a:2379', '--registry-store-username', 'weft'])).toEqual([
      'registry.store.password: is required with registry.store.username (in the environment or the config file, or as registry.store.passwordFile)',
    ]);
    expect(await problems(['--controller-store', 'etcd'], {}, ControllerConfigSchema)).toHaveLength(1);
  });

  it('takes the password from the environment only, and print-config never shows it', async () => {
    const config = await load(['--store', 'etcd://a:2379', '--controller-store-username', 'weft'], {
      WEFT_CONTROLLER_STORE_PASSWORD: 'sw0rdfish-secret',
    });
    expect(controlPlaneOptions(config, NONE).controller?.store).toMatchObject({
      username: 'weft',
      password: 'sw0rdfish-secret',
    });
    expect(settings.find((s) => s.key === 'controller.store.password')?.flag).toBeUndefined();
    let stdout = '';
    const context: CliContext = {
      argv0: 'weft',
      env: { WEFT_CONTROLLER_STORE_PASSWORD: 'sw0rdfish-secret' },
      cwd: import.meta.dirname,
      stdout: (t) => {
        stdout += t;
      },
      stderr: () => {},
      onSignal: () => () => undefined,
    };
    const code = await runCli(
      ['control-plane', '--print-config', '--store', 'etcd://a:2379', '--controller-store-username', 'weft'],
      context,
    );
    expect(code).toBe(0);
    expect(stdout).toContain('    password: <hidden>  # env WEFT_CONTROLLER_STORE_PASSWORD\n');
    expect(stdout).toContain('store: etcd://a:2379  # --store\n');
    expect(stdout).not.toContain('sw0rdfish');
  });

  it('the standalone controller takes an etcd store too', async () => {
    const s = describeSettings(ControllerConfigSchema);
    const flags = readFlags(
      'controller',
      ['--controller-store', 'etcd', '--controller-store-endpoints', 'http://e:2379'],
      s,
    );
    const { config } = await loadConfig(ControllerConfigSchema, s, { flags, env: {}, cwd: import.meta.dirname });
    expect(controllerOptions(config, NONE).store).toMatchObject({ type: 'etcd', endpoints: ['http://e:2379'] });
  });
});
