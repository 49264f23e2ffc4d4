/**
 * The `weft` command as a user runs it: `node packages/servers/bin/weft.mjs …`, a real process in
 * this clone (the TypeScript sources through tsx), real HTTP, real signals.
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listeningUrl, runWeft, startWeft } from './weft-process.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weft-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const registration = {
  service_name: 'reviews',
  endpoint: { type: 'http', value: '10.0.0.7:9080' },
  ttl: 60,
  tags: ['version=v2'],
};

async function register(url: string): Promise<string> {
  const res = await fetch(`${url}/api/v1/instances`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(registration),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

async function instancesOf(url: string, service: string): Promise<{ id: string; tags: string[] }[]> {
  const res = await fetch(`${url}/api/v1/services/${service}`);
  if (res.status === 404) return [];
  expect(res.status).toBe(200);
  return ((await res.json()) as { instances: { id: string; tags: string[] }[] }).instances;
}

describe('weft (process)', () => {
  it('--help and --version work from the sources, without a build', async () => {
    const help = await runWeft(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: weft <command> [flags]');
    expect(help.stdout).toMatch(/^ {2}control-plane /m);
    const cp = await runWeft(['control-plane', '--help']);
    expect(cp.code).toBe(0);
    expect(cp.stdout).toContain('--registry-store-path <file>');
    expect(cp.stdout).toContain('env: WEFT_REGISTRY_STORE_PATH · file: registry.store.path');
    expect((await runWeft(['--version'])).stdout).toMatch(/^weft \d+\.\d+\.\d+/);
  });

  it('exits 2 naming an unknown command, flag or setting', async () => {
    const cmd = await runWeft(['regstry']);
    expect(cmd).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("unknown command 'regstry' (did you mean registry?)"),
    });
    const flag = await runWeft(['control-plane', '--prot', '1']);
    expect(flag).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('unknown flag --prot (did you mean --port?)'),
    });
    const env = await runWeft(['control-plane'], { env: { WEFT_PORT: 'http' } });
    expect(env.code).toBe(2);
    expect(env.stderr).toContain('port = "http" (from env WEFT_PORT): must be a port number');
  });

  it('control-plane: serves the registry and the controller on one port, stops on SIGTERM with 0', async () => {
    const weft = startWeft(['control-plane', '--port', '0', '--log-level', 'warn']);
    try {
      const url = await listeningUrl(weft);
      const id = await register(url);
      expect(await instancesOf(url, 'reviews')).toEqual([expect.objectContaining({ id, tags: ['version=v2'] })]);
      // The controller on the same port, same namespace.
      const put = await fetch(`${url}/v1/rules`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          rules: [{ id: 'r1', destination: 'reviews', route: { backends: [{ tags: ['version=v2'] }] } }],
        }),
      });
      expect(put.status).toBe(201);
      const rules = (await (await fetch(`${url}/v1/rules`)).json()) as { rules: { id: string }[] };
      expect(rules.rules.map((r) => r.id)).toEqual(['r1']);
      expect((await fetch(`${url}/health`)).status).toBe(200);
    } finally {
      weft.child.kill('SIGTERM');
    }
    expect(await weft.exited).toBe(0);
    expect(weft.stderr()).toContain('SIGTERM, shutting down');
  });

  it('ends watch streams on SIGTERM instead of waiting for them', async () => {
    const weft = startWeft(['control-plane', '--port', '0', '--log-level', 'warn', '--shutdown-timeout', '30s']);
    const url = await listeningUrl(weft);
    const stream = await fetch(`${url}/v1/rules`, { headers: { accept: 'text/event-stream' } });
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    await reader.read(); // the stream is open
    const started = Date.now();
    weft.child.kill('SIGTERM');
    // The stream ends (the server closed it), then the process exits 0, well before the timeout.
    for (let r = await reader.read(); !r.done; r = await reader.read());
    expect(await weft.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('a second signal exits at once when a request holds the shutdown', async () => {
    const weft = startWeft(['control-plane', '--port', '0', '--log-level', 'warn', '--shutdown-timeout', '60s']);
    const url = new URL(await listeningUrl(weft));
    // A request whose body never finishes: in flight until the shutdown timeout.
    const socket = new Socket();
    await new Promise<void>((resolve) => socket.connect(Number(url.port), url.hostname, resolve));
    socket.write(
      'POST /api/v1/instances HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{',
    );
    await new Promise((r) => setTimeout(r, 200));
    weft.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    expect(weft.child.exitCode).toBeNull(); // still draining
    weft.child.kill('SIGTERM');
    expect(await weft.exited).toBe(143);
    expect(weft.stderr()).toContain('SIGTERM again, exiting at once');
    socket.destroy();
  });

  it('exits 1 with a clear message when the port is taken', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const r = await runWeft(['control-plane', '--port', String(port), '--log-level', 'silent']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        `weft control-plane: cannot listen on 127.0.0.1:${port}: the port is in use (choose another with --port or WEFT_PORT)`,
      );
    } finally {
      taken.close();
    }
  });

  it('keeps the registry in its file store across a restart (flushed on SIGTERM)', async () => {
    const args = ['control-plane', '--port', '0', '--log-level', 'warn'];
    const env = { WEFT_REGISTRY_STORE: 'file', WEFT_REGISTRY_STORE_PATH: join(dir, 'registry.json') };
    const first = startWeft(args, { env });
    const id = await register(await listeningUrl(first));
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const second = startWeft(args, { env });
    try {
      expect(await instancesOf(await listeningUrl(second), 'reviews')).toEqual([expect.objectContaining({ id })]);
    } finally {
      second.child.kill('SIGTERM');
    }
    expect(await second.exited).toBe(0);
  });

  it('exits 1 naming a damaged store file, without a stack', async () => {
    const file = join(dir, 'damaged.json');
    await writeFile(file, '{not json');
    const r = await runWeft([
      'control-plane',
      '--port',
      '0',
      '--controller-store',
      'file',
      '--controller-store-path',
      file,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^weft control-plane: Invalid rules store file ${file}: is not valid JSON`));
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('registry and controller run alone, each with its own API only', async () => {
    const registry = startWeft(['registry', '--port', '0', '--log-level', 'warn', '--registry-ttl-max', '1m']);
    const controller = startWeft(['controller', '--port', '0', '--log-level', 'warn']);
    try {
      const [r, c] = await Promise.all([listeningUrl(registry), listeningUrl(controller)]);
      await register(r);
      // The TTL asked for (60 s) is within the configured bounds; 120 s would be cut to 60.
      const long = await fetch(`${r}/api/v1/instances`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...registration, endpoint: { type: 'http', value: '10.0.0.8:9080' }, ttl: 120 }),
      });
      expect(((await long.json()) as { ttl: number }).ttl).toBe(60);
      expect((await fetch(`${r}/v1/rules`)).status).toBe(404);
      expect((await fetch(`${c}/v1/rules`)).status).toBe(200);
      expect((await fetch(`${c}/api/v1/services`)).status).toBe(404);
    } finally {
      registry.child.kill('SIGTERM');
      controller.child.kill('SIGINT');
    }
    expect(await registry.exited).toBe(0);
    expect(await controller.exited).toBe(0);
  });
});
