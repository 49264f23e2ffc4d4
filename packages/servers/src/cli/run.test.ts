import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeSettings } from '../config/describe.js';
import { ControllerConfigSchema, ControlPlaneConfigSchema, RegistryConfigSchema } from '../config/schemas.js';
import type { CliContext } from './command.js';
import { runCli } from './run.js';

const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as {
  version: string;
};

/** Runs `weft …` in-process and returns its exit code and output. */
async function weft(args: string[], env: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  const context: CliContext = {
    argv0: 'weft',
    env,
    cwd: import.meta.dirname,
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    onSignal: () => () => undefined,
  };
  const code = await runCli(args, context);
  return { code, stdout, stderr };
}

describe('weft (top level)', () => {
  it('--help lists every command and exits 0', async () => {
    const r = await weft(['--help']);
    expect(r.code).toBe(0);
    for (const name of ['control-plane', 'registry', 'controller'])
      expect(r.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
    expect(r.stderr).toBe('');
  });

  it('--version prints the package version', async () => {
    expect(await weft(['--version'])).toEqual({ code: 0, stdout: `weft ${pkg.version}\n`, stderr: '' });
    expect((await weft(['-V'])).stdout).toBe(`weft ${pkg.version}\n`);
  });

  it('without a command prints the help on stderr and exits 2', async () => {
    const r = await weft([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('Usage: weft <command>');
  });

  it('names an unknown command, suggests the closest, exits 2', async () => {
    const r = await weft(['control-plan']);
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr: "weft: unknown command 'control-plan' (did you mean control-plane?); see weft --help\n",
    });
    // Commands still to come are unknown, not stubs.
    expect((await weft(['sidecar'])).code).toBe(2);
  });

  it('names an unknown top-level flag, exits 2', async () => {
    const r = await weft(['--port', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^weft: unknown flag --port/);
  });

  it('`help <command>` is `<command> --help`', async () => {
    expect((await weft(['help', 'registry'])).stdout).toBe((await weft(['registry', '--help'])).stdout);
  });
});

describe('weft <command> --help', () => {
  const cases = [
    ['control-plane', ControlPlaneConfigSchema, '8080'],
    ['registry', RegistryConfigSchema, '31300'],
    ['controller', ControllerConfigSchema, '31200'],
  ] as const;

  for (const [name, schema, port] of cases)
    it(`${name}: shows every setting with its flag, env var, file key and default`, async () => {
      const r = await weft([name, '--help']);
      expect(r.code).toBe(0);
      const settings = describeSettings(schema);
      expect(settings.length).toBeGreaterThan(10);
      for (const s of settings) {
        // A secret has no flag: it is listed by its environment variable.
        const head = s.flag === undefined ? `  ${s.env}` : `  --${s.flag}`;
        expect(r.stdout).toContain(`\n${head}`);
        expect(r.stdout).toContain(s.flag === undefined ? `file: ${s.key}` : `env: ${s.env} · file: ${s.key}`);
      }
      expect(r.stdout).toMatch(new RegExp(`--port <port>\\n.*\\(default: ${port}\\)`));
      expect(r.stdout).toContain(`weft-${name}.config.schema.json`);
    });

  it('lists the registry settings only where there is a registry', async () => {
    expect((await weft(['controller', '--help'])).stdout).not.toContain('--registry-');
    expect((await weft(['registry', '--help'])).stdout).not.toContain('--controller-');
  });
});

describe('weft <command> usage errors', () => {
  it('names an unknown flag, with a suggestion, and exits 2', async () => {
    const r = await weft(['control-plane', '--registry-capcity', '3']);
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr: 'weft control-plane: unknown flag --registry-capcity (did you mean --registry-capacity?)\n',
    });
  });

  it('knows no flag by an inherited name, and no negated general flag', async () => {
    for (const flag of ['--constructor', '--__proto__', '--no-help', '--no-port'])
      expect(await weft(['registry', flag]), flag).toMatchObject({
        code: 2,
        stderr: expect.stringContaining(`unknown flag ${flag}`),
      });
  });

  it('offers no flag for a secret', async () => {
    const r = await weft(['control-plane', '--auth-jwt-secret', 'x'.repeat(40)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown flag --auth-jwt-secret');
    expect(r.stderr).not.toContain('x'.repeat(40));
  });

  it('refuses a flag without its value, and a flag taken as a value', async () => {
    expect((await weft(['registry', '--port'])).stderr).toBe('weft registry: --port needs a value\n');
    const r = await weft(['registry', '--port', '--host', 'h']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--port needs a value (got the flag '--host'");
  });

  it('refuses positional arguments', async () => {
    const r = await weft(['registry', 'extra']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unexpected argument 'extra'");
  });

  it('prints every invalid setting with its origin and exits 2', async () => {
    const r = await weft(['control-plane', '--port', 'eighty'], { WEFT_REGISTRY_CAPACITY: '-1' });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      [
        'weft control-plane: invalid configuration:',
        '  port = "eighty" (from --port): must be a port number',
        '  registry.capacity = -1 (from env WEFT_REGISTRY_CAPACITY): must be at least 1',
        '',
      ].join('\n'),
    );
  });

  it('reports an unreadable secret file by its setting', async () => {
    const r = await weft(['control-plane', '--auth', 'jwt', '--auth-jwt-secret-file', '/nonexistent/secret']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'auth.jwtSecretFile = "/nonexistent/secret" (from --auth-jwt-secret-file): cannot be read (ENOENT)',
    );
  });
});

describe('weft <command> --print-config', () => {
  it('prints the effective settings with where each came from', async () => {
    const r = await weft(['registry', '--print-config', '--port', '9000', '--auth', 'jwt,none'], {
      WEFT_REGISTRY_TTL_DEFAULT: '45s',
      WEFT_AUTH_JWT_SECRET: 's'.repeat(32),
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('port: 9000  # --port\n');
    expect(r.stdout).toContain('host: 127.0.0.1  # default\n');
    expect(r.stdout).toContain('  modes: [ jwt, none ]  # --auth\n');
    expect(r.stdout).toContain('  jwtSecret: <hidden>  # env WEFT_AUTH_JWT_SECRET\n');
    expect(r.stdout).toContain('registry:\n  store:\n    type: memory  # default\n    # path:  (not set)\n');
    expect(r.stdout).toContain('    default: 45s  # env WEFT_REGISTRY_TTL_DEFAULT\n');
    expect(r.stdout).not.toContain('s'.repeat(32));
  });
});
