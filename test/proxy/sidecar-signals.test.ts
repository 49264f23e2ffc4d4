/**
 * `handleSignals`: on SIGTERM the sidecar drains, then ends the process as the signal would have
 * — unless the application listens for SIGTERM itself, which then owns the rest of the shutdown.
 * Each case runs a child Node process (through tsx, on the TypeScript sources) holding a sidecar
 * and another HTTP server of the application, and sends it a real SIGTERM.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const tsx = join(root, 'node_modules/tsx/dist/cli.mjs');
const proxy = join(root, 'packages/proxy/src/index.ts');
const core = join(root, 'packages/core/src/index.ts');

const script = `
import { createServer } from 'node:http';
import { Discovery, ManualSource } from ${JSON.stringify(core)};
import { Sidecar } from ${JSON.stringify(proxy)};

const discovery = new Discovery({ sources: [new ManualSource('static', [])] });
const sidecar = new Sidecar({ discovery, port: 0, admin: false, accessLog: false, handleSignals: true });
const { port } = await sidecar.listen();
// The application's own server, which the sidecar knows nothing about.
const app = createServer((req, res) => {
  res.end('app alive');
  if (req.url === '/quit') app.close(() => discovery.close());
});
await new Promise((r) => app.listen(0, '127.0.0.1', r));
if (process.env.APP_HANDLES_SIGTERM === '1')
  process.on('SIGTERM', () => console.log('APP SIGTERM'));
process.on('exit', (code) => console.log('EXIT', code, 'drained', sidecar.isDraining));
console.log('LISTENING', port, app.address().port);
`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weft-signals-'));
  await writeFile(join(dir, 'signals.mts'), script);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Child {
  proc: ChildProcess;
  ports: { sidecar: number; app: number };
  exited: Promise<{ code: number | null; stdout: string }>;
  stdout: () => string;
}

async function start(env: Record<string, string> = {}): Promise<Child> {
  const proc = spawn(process.execPath, [tsx, '--conditions=@weft/source', join(dir, 'signals.mts')], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  proc.stdout?.setEncoding('utf8');
  const exited = new Promise<{ code: number | null; stdout: string }>((resolve) =>
    proc.on('exit', (code) => resolve({ code, stdout: out })),
  );
  const ports = await new Promise<Child['ports']>((resolve, reject) => {
    proc.stdout?.on('data', (chunk: string) => {
      out += chunk;
      const m = /LISTENING (\d+) (\d+)/.exec(out);
      if (m) resolve({ sidecar: Number(m[1]), app: Number(m[2]) });
    });
    void exited.then(() => reject(new Error(`child exited before listening: ${out}`)));
  });
  return { proc, ports, exited, stdout: () => out };
}

/** Whether something accepts TCP connections on the port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function until(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('Sidecar handleSignals', () => {
  it('drains on SIGTERM, then exits with 0 although another server is still open', async () => {
    const child = await start();
    try {
      expect(await accepts(child.ports.app)).toBe(true);
      child.proc.kill('SIGTERM');
      const { code, stdout } = await child.exited;
      expect(code).toBe(0);
      expect(stdout).toContain('EXIT 0 drained true');
    } finally {
      child.proc.kill('SIGKILL');
    }
  }, 30_000);

  it('only drains when the application listens for SIGTERM: its other server keeps running', async () => {
    const child = await start({ APP_HANDLES_SIGTERM: '1' });
    try {
      child.proc.kill('SIGTERM');
      await until(async () => !(await accepts(child.ports.sidecar)));
      // Drained; give a process.exit() that should not come the time to come.
      await new Promise((r) => setTimeout(r, 300));
      expect(child.proc.exitCode).toBeNull();
      const answer = await fetch(`http://127.0.0.1:${child.ports.app}/quit`).then((r) => r.text());
      expect(answer).toBe('app alive');
      // The application closed its server: with nothing left, the process ends by itself.
      const { code, stdout } = await child.exited;
      expect(code).toBe(0);
      expect(stdout).toContain('APP SIGTERM');
      expect(stdout).toContain('EXIT 0 drained true');
    } finally {
      child.proc.kill('SIGKILL');
    }
  }, 30_000);
});
