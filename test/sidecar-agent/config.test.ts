/** `weft sidecar`'s settings: Amalgam8's aliases, precedence, validation, gateway defaults. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../packages/servers/src/cli/run.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-sidecar-config-'));

async function weft(argv: string[], env: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    argv0: 'weft',
    env,
    cwd: dir,
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    onSignal: () => () => undefined,
  });
  return { code, stdout, stderr };
}

const A8 = {
  A8_SERVICE: 'reviews:v2,canary',
  A8_ENDPOINT_HOST: '10.0.0.7',
  A8_ENDPOINT_PORT: '9080',
  A8_ENDPOINT_TYPE: 'http',
  A8_REGISTRY_URL: 'http://registry:8080',
  A8_REGISTRY_TOKEN: 'team-a',
  A8_CONTROLLER_URL: 'http://controller:8080',
  A8_REGISTER: 'true',
  A8_PROXY: 'false',
};

describe('weft sidecar configuration', () => {
  it("takes Amalgam8's variables unchanged, naming them as the origin", async () => {
    const { code, stdout } = await weft(['sidecar', '--print-config'], A8);
    expect(code).toBe(0);
    expect(stdout).toContain('name: reviews  # env A8_SERVICE');
    expect(stdout).toContain('tags: [ v2, canary ]  # env A8_SERVICE');
    expect(stdout).toContain('host: 10.0.0.7  # env A8_ENDPOINT_HOST');
    expect(stdout).toContain('port: 9080  # env A8_ENDPOINT_PORT');
    expect(stdout).toContain('url: http://registry:8080  # env A8_REGISTRY_URL');
    expect(stdout).toContain('token: <hidden>  # env A8_REGISTRY_TOKEN');
    expect(stdout).toContain('url: http://controller:8080  # env A8_CONTROLLER_URL');
    expect(stdout).toContain('proxy: false  # env A8_PROXY');
    expect(stdout).not.toContain('team-a');
  });

  it("takes Amalgam8's flags: --service name:tags, underscores, --registry_token", async () => {
    const { code, stdout } = await weft([
      'sidecar',
      '--service',
      'ratings:v1',
      '--endpoint_port=9090',
      '--registry_url',
      'http://r:1',
      '--registry_token',
      'secret-token',
      '--print-config',
    ]);
    expect(code).toBe(0);
    expect(stdout).toContain('name: ratings  # --service');
    expect(stdout).toContain('port: 9090  # --endpoint-port');
    expect(stdout).toContain('token: <hidden>  # --registry_token');
  });

  it('ranks flags over WEFT_* over A8_* over the file', async () => {
    const file = join(dir, 'sidecar.yaml');
    writeFileSync(
      file,
      'endpoint: { host: from-file, port: 1 }\nservice: { name: from-file }\nregistry: { url: "http://file:1" }\n',
    );
    const env = { ...A8, WEFT_ENDPOINT_HOST: 'from-weft-env', WEFT_CONFIG: 'sidecar.yaml' };
    const { stdout } = await weft(['sidecar', '--endpoint-port', '7', '--print-config'], env);
    expect(stdout).toContain('host: from-weft-env  # env WEFT_ENDPOINT_HOST'); // WEFT_ over A8_
    expect(stdout).toContain('port: 7  # --endpoint-port'); // flag over both
    expect(stdout).toContain('name: reviews  # env A8_SERVICE'); // A8_ over the file
    const fileOnly = await weft(['sidecar', '--print-config'], { WEFT_CONFIG: 'sidecar.yaml' });
    expect(fileOnly.stdout).toContain('host: from-file  # sidecar.yaml:1');
  });

  it('names unknown keys and missing settings, with exit code 2', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'service: { name: x }\nhealtchecks: []\n');
    const { code, stderr } = await weft(['sidecar', '--config', 'bad.yaml']);
    expect(code).toBe(2);
    expect(stderr).toContain('healtchecks (from bad.yaml:2): unknown setting (did you mean healthchecks?)');
    expect(stderr).toContain('endpoint.port: is required to register');
    expect(stderr).toContain('registry.url: is required');
  });

  it('validates health checks, commands and the heartbeat fraction', async () => {
    const file = join(dir, 'items.yaml');
    writeFileSync(
      file,
      [
        'register: false',
        'registry: { url: "http://r:1", heartbeat: 2 }',
        'healthchecks: [ftp://x, { type: tcp, host: a }]',
        'commands: [{ cmd: [], onExit: sometimes }]',
      ].join('\n'),
    );
    const { code, stderr } = await weft(['sidecar', '--config', file]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/registry\.heartbeat = 2 .*strictly between 0 and 1/);
    expect(stderr).toContain('healthchecks');
    expect(stderr).toContain('commands');
  });

  it("takes the control plane's replicas: comma-separated in variables and flags, a list in the file", async () => {
    const env = {
      ...A8,
      A8_REGISTRY_URL: 'http://r1:8080,http://r2:8080',
      A8_CONTROLLER_URL: 'http://c1:1, http://c2:1',
    };
    const fromEnv = await weft(['sidecar', '--print-config'], env);
    expect(fromEnv.code).toBe(0);
    expect(fromEnv.stdout).toContain('url: "http://r1:8080,http://r2:8080"  # env A8_REGISTRY_URL');
    expect(fromEnv.stdout).toContain('url: "http://c1:1, http://c2:1"  # env A8_CONTROLLER_URL');
    const fromFlag = await weft(['sidecar', '--registry_url', 'http://f1:1,http://f2:1', '--print-config'], A8);
    expect(fromFlag.stdout).toContain('url: "http://f1:1,http://f2:1"  # --registry-url');
    writeFileSync(join(dir, 'replicas.yaml'), 'registry: { url: ["http://y1:1", "http://y2:1"] }\n');
    const fromFile = await weft(['sidecar', '--print-config'], {
      ...A8,
      A8_REGISTRY_URL: '',
      WEFT_CONFIG: 'replicas.yaml',
    });
    expect(fromFile.code).toBe(0);
    expect(fromFile.stdout).toMatch(/url: \[ ?http:\/\/y1:1, http:\/\/y2:1 ?\]/);

    const bad = await weft(['sidecar', '--print-config'], { ...A8, A8_REGISTRY_URL: 'http://r1:1,ftp://r2:1' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('registry.url');
    const consul = await weft(['sidecar', '--registry-type', 'consul', '--print-config'], {
      ...A8,
      A8_REGISTRY_URL: 'http://c1:8500,http://c2:8500',
    });
    expect(consul.code).toBe(2);
    expect(consul.stderr).toContain('must be one URL with registry.type consul');
  });

  it('gives weft gateway (and --mode gateway) the edge defaults', async () => {
    const env = { WEFT_REGISTRY_URL: 'http://r:1' };
    for (const argv of [['gateway'], ['sidecar', '--mode', 'gateway']]) {
      const { code, stdout } = await weft([...argv, '--print-config'], env);
      expect(code).toBe(0);
      expect(stdout).toContain('register: false  # default');
      expect(stdout).toContain('proxyHost: 0.0.0.0  # default');
    }
  });

  it('prints its help without any configuration', async () => {
    const { code, stdout } = await weft(['sidecar', '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: weft sidecar [flags] [-- <app command> [args…]]');
    expect(stdout).toContain('--proxy-port <port>');
    expect(stdout).toContain('A8_SERVICE=name:tag1,tag2');
  });
});
