import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configFixture } from './config-fixture.js';
import { describeSettings } from './describe.js';
import { loadConfig } from './load.js';
import { readFlags } from './read-flags.js';
import { ControlPlaneConfigSchema, RegistryConfigSchema } from './schemas.js';

/** The control plane's config from flags, environment and (optional) file text, in a scratch directory. */
const fixture = configFixture('control-plane', ControlPlaneConfigSchema, 'weft-config-');
const { settings, load, problems } = fixture;

describe('config precedence: flags > environment > file > defaults', () => {
  it('applies the defaults when nothing is given', async () => {
    const { config, origins } = await load([]);
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      logLevel: 'info',
      watch: { maxWait: 300_000, defaultWait: 30_000 },
      auth: { modes: ['none'], namespace: 'default' },
      registry: { store: { type: 'memory' }, ttl: { default: 30_000, min: 10_000, max: 600_000 } },
      controller: { store: { type: 'memory' } },
    });
    expect(config.registry.capacity).toBeUndefined();
    expect(origins.size).toBe(0);
  });

  it('takes each setting from the highest origin that gives it', async () => {
    const file = 'port: 1111\nhost: 0.0.0.0\nlogLevel: warn\nregistry:\n  capacity: 10\n  ttl:\n    max: 20m\n';
    const env = { WEFT_PORT: '2222', WEFT_LOG_LEVEL: 'debug', WEFT_REGISTRY_TTL_MAX: '30m' };
    const { config, origins } = await load(['--port', '3333'], env, file);
    expect(config.port).toBe(3333); // flag over env over file
    expect(config.logLevel).toBe('debug'); // env over file
    expect(config.host).toBe('0.0.0.0'); // file over default
    expect(config.registry.capacity).toBe(10); // file, nested
    expect(config.registry.ttl.max).toBe(1_800_000); // env over file, nested, converted
    expect(config.registry.ttl.min).toBe(10_000); // default beside a file value in the same mapping
    expect(origins.get('port')).toEqual({ type: 'flag', flag: 'port' });
    expect(origins.get('logLevel')).toEqual({ type: 'env', name: 'WEFT_LOG_LEVEL' });
    expect(origins.get('host')).toMatchObject({ type: 'file', file: 'weft.yaml', line: 2 });
  });

  it('reads lists from repeated flags, comma lists and YAML sequences; a flag replaces the whole list', async () => {
    const secret = 'x'.repeat(32);
    const env = { WEFT_AUTH: 'trusted', WEFT_AUTH_JWT_SECRET: secret };
    expect((await load([], env, 'auth:\n  modes: [jwt, none]\n')).config.auth.modes).toEqual(['trusted']);
    expect((await load([], {}, 'auth:\n  modes: [trusted, none]\n')).config.auth.modes).toEqual(['trusted', 'none']);
    expect((await load(['--auth', 'jwt', '--auth=trusted,none'], env)).config.auth.modes).toEqual([
      'jwt',
      'trusted',
      'none',
    ]);
  });

  it('finds the file through WEFT_CONFIG, and --config over it', async () => {
    await writeFile(join(fixture.dir(), 'other.yaml'), 'port: 4444\n');
    await writeFile(join(fixture.dir(), 'weft.yaml'), 'port: 5555\n');
    const flags = readFlags('control-plane', [], settings);
    const viaEnv = await loadConfig(ControlPlaneConfigSchema, settings, {
      flags,
      env: { WEFT_CONFIG: 'other.yaml' },
      cwd: fixture.dir(),
    });
    expect(viaEnv.config.port).toBe(4444);
    const viaFlag = await loadConfig(ControlPlaneConfigSchema, settings, {
      flags: readFlags('control-plane', ['-c', 'weft.yaml'], settings),
      env: { WEFT_CONFIG: 'other.yaml' },
      cwd: fixture.dir(),
    });
    expect(viaFlag.config.port).toBe(5555);
  });

  it('reads switches from --x / --no-x, true/false words and YAML booleans', async () => {
    expect((await load(['--log-requests'])).config.logRequests).toBe(true);
    expect((await load(['--no-log-requests'], { WEFT_LOG_REQUESTS: 'yes' })).config.logRequests).toBe(false);
    expect((await load([], { WEFT_LOG_REQUESTS: 'on' }, 'logRequests: false\n')).config.logRequests).toBe(true);
    expect((await load([], {}, 'registry:\n  requireHttps: true\n')).config.registry.requireHttps).toBe(true);
    expect(await problems([], { WEFT_LOG_REQUESTS: 'maybe' })).toEqual([
      'logRequests = "maybe" (from env WEFT_LOG_REQUESTS): must be true or false',
    ]);
  });

  it('treats an empty environment variable as unset', async () => {
    expect((await load([], { WEFT_PORT: '' }, 'port: 1234\n')).config.port).toBe(1234);
  });

  it('gives each command its own default port', async () => {
    const s = describeSettings(RegistryConfigSchema);
    const r = await loadConfig(RegistryConfigSchema, s, {
      flags: readFlags('registry', [], s),
      env: {},
      cwd: fixture.dir(),
    });
    expect(r.config.port).toBe(31300);
  });
});

describe('config errors name the field and where its value came from', () => {
  it('names a flag, an environment variable and a file line', async () => {
    const list = await problems(['--port', '70000'], { WEFT_LOG_LEVEL: 'loud' }, 'watch:\n  maxWait: 5\n');
    expect(list).toContain('port = 70000 (from --port): must be between 0 and 65535');
    expect(list).toContain(
      'logLevel = "loud" (from env WEFT_LOG_LEVEL): must be one of fatal, error, warn, info, debug, trace, silent',
    );
    expect(list).toContain(
      'watch.maxWait = 5 (from weft.yaml:2): must be a duration with a unit, such as 500ms, 30s, 5m or 1h',
    );
  });

  it('says which item of a list is wrong', async () => {
    expect(await problems(['--auth', 'none,magic'])).toEqual([
      'auth.modes[1] = "magic" (from --auth): must be one of none, trusted, jwt, admin',
    ]);
  });

  it('rejects unknown keys in the file, naming them with their line and a suggestion', async () => {
    const list = await problems([], {}, 'port: 1\nregistry:\n  capacty: 3\nbogus: true\n');
    expect(list).toEqual([
      'registry.capacty (from weft.yaml:3): unknown setting (did you mean registry.capacity?)',
      'bogus (from weft.yaml:4): unknown setting',
    ]);
  });

  it('rejects a __proto__ key instead of taking its settings', async () => {
    expect(await problems([], {}, '__proto__:\n  port: 1\n')).toEqual([
      '__proto__ (from weft.yaml:1): unknown setting',
    ]);
  });

  it('rejects a file section that is not a mapping', async () => {
    expect(await problems([], {}, 'registry: 5\n')).toEqual([
      'registry = 5 (from weft.yaml:1): must be a mapping of settings (key: value)',
    ]);
  });

  it('never prints a secret, even when it is invalid', async () => {
    const list = await problems(['--auth', 'jwt'], { WEFT_AUTH_JWT_SECRET: 'hunter2-too-short' });
    expect(list).toEqual(['auth.jwtSecret (from env WEFT_AUTH_JWT_SECRET): must be at least 32 characters']);
    expect(list.join('\n')).not.toContain('hunter2');
  });

  it('checks settings that depend on each other', async () => {
    expect(await problems(['--registry-store', 'file'])).toEqual([
      'registry.store.path: is required when registry.store.type is file',
    ]);
    expect(await problems(['--auth', 'none,trusted'])).toEqual([
      'auth.modes = ["none","trusted"] (from --auth): none must come last: it accepts every request, so the modes after it would never run',
    ]);
    expect(await problems(['--auth', 'jwt'])).toEqual([
      'auth.jwtSecret: is required by auth mode jwt (in the environment or the config file, or as auth.jwtSecretFile)',
    ]);
    expect(await problems(['--registry-ttl-min', '1m', '--registry-ttl-max', '30s'])).toEqual([
      'registry.ttl.min = "1m" (from --registry-ttl-min): must not exceed registry.ttl.max',
    ]);
    expect(
      await problems(['--registry-store', 'file', '--registry-store-path', 'x.json', '--controller-store', 'file'], {
        WEFT_CONTROLLER_STORE_PATH: 'x.json',
      }),
    ).toEqual([
      'controller.store.path = "x.json" (from env WEFT_CONTROLLER_STORE_PATH): must differ from registry.store.path',
    ]);
  });

  it('reports YAML syntax errors and unreadable files with their place', async () => {
    const bad = await problems([], {}, 'port: [1\n');
    expect(bad[0]).toMatch(/^weft\.yaml:\d+:\d+: /);
    const flags = readFlags('control-plane', ['--config', 'missing.yaml'], settings);
    await expect(
      loadConfig(ControlPlaneConfigSchema, settings, { flags, env: {}, cwd: fixture.dir() }),
    ).rejects.toThrow('missing.yaml: cannot be read (ENOENT)');
  });
});
