import { describe, expect, it } from 'vitest';
import { controllerOptions } from '../cli/server-options.js';
import { describeSettings } from './describe.js';
import { ConfigError } from './errors.js';
import { loadConfig } from './load.js';
import { readFlags } from './read-flags.js';
import { ControllerConfigSchema, ControlPlaneConfigSchema } from './schemas.js';

/** Loads `weft <command>`'s config from flags and environment. */
function load(command: 'controller' | 'control-plane', argv: string[], env: Record<string, string> = {}) {
  const schema = command === 'controller' ? ControllerConfigSchema : ControlPlaneConfigSchema;
  const settings = describeSettings(schema);
  return loadConfig(schema, settings, { flags: readFlags(command, argv, settings), env, cwd: process.cwd() });
}

describe('the kubernetes controller store settings', () => {
  it('reads the type, kubeconfig and context from flags and environment into the store options', async () => {
    const { config } = await load(
      'controller',
      ['--controller-store', 'kubernetes', '--controller-store-kubeconfig', '/etc/weft/kubeconfig'],
      { WEFT_CONTROLLER_STORE_CONTEXT: 'prod' },
    );
    expect(config.controller.store).toMatchObject({
      type: 'kubernetes',
      kubeconfig: '/etc/weft/kubeconfig',
      context: 'prod',
    });
    expect(controllerOptions(config, []).store).toEqual({
      type: 'kubernetes',
      kubeconfig: '/etc/weft/kubeconfig',
      context: 'prod',
    });
  });

  it('is the controller store only: the registry cannot keep instances there', async () => {
    const err = await load('control-plane', ['--registry-store', 'kubernetes']).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      'registry.store.type = "kubernetes" (from --registry-store): kubernetes holds rules only (the controller store): use memory, file or etcd',
    ]);
  });
});
