/**
 * A pending mesh call keeps the process alive; an idle agent does not. Each case runs a small
 * script in a child Node process (through tsx, on the TypeScript sources), whose only pending
 * work is one `await request(…)` through a MeshAgent to a dead endpoint: the call waits on the
 * engine's timers (a retry backoff, an injected delay) with no socket open.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const tsx = join(root, 'node_modules/tsx/dist/cli.mjs');
const undici = createRequire(import.meta.url).resolve('undici');
const proxy = join(root, 'packages/proxy/src/index.ts');
const core = join(root, 'packages/core/src/index.ts');

/** The setup both module systems share: a MeshAgent whose only instance refuses connections. */
const setup = `
const port = Number(process.env.DEAD_PORT);
const instance = {
  id: 'svc-dead', namespace: 'default', service: 'svc',
  endpoint: { type: 'http', value: '127.0.0.1:' + port, host: '127.0.0.1', port },
  tags: [], metadata: {}, status: 'UP', ttl: 30, registeredAt: 0, lastHeartbeat: 0,
};
const discovery = new Discovery({ sources: [new ManualSource('test', [instance])] });
const scenario = process.env.SCENARIO;
const router = scenario === 'delay'
  ? { has: (s) => s === 'svc', route: () => ({ backendTags: [], fault: () => ({ delayMs: 300 }) }) }
  : undefined;
const mesh = new MeshAgent({
  discovery,
  ...(router === undefined ? {} : { router }),
  // Backoffs of up to 400 ms, so the call spends most of its life waiting on a timer.
  retry: scenario === 'delay' ? false : { maxAttempts: 3, backoff: { baseMs: 200, maxMs: 400 } },
});
const report = (err) => console.log('REJECTED', err.code);
`;

const esm = `
import { request } from ${JSON.stringify(undici)};
import { Discovery, ManualSource } from ${JSON.stringify(core)};
import { MeshAgent } from ${JSON.stringify(proxy)};
${setup}
try {
  await request('http://svc/x', { dispatcher: mesh });
  console.log('RESOLVED');
} catch (err) {
  report(err);
}
`;

const cjs = `
const { request } = require(${JSON.stringify(undici)});
const { Discovery, ManualSource } = require(${JSON.stringify(core)});
const { MeshAgent } = require(${JSON.stringify(proxy)});
${setup}
request('http://svc/x', { dispatcher: mesh }).then(() => console.log('RESOLVED'), report);
`;

let dir: string;
let deadPort: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weft-alive-'));
  await writeFile(join(dir, 'call.mts'), esm);
  await writeFile(join(dir, 'call.cts'), cjs);
  // A port nothing listens on: connections to it are refused.
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  deadPort = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function run(file: string, scenario: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [tsx, '--conditions=@weft/source', join(dir, file)],
      { cwd: root, timeout: 30_000, env: { ...process.env, DEAD_PORT: String(deadPort), SCENARIO: scenario } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('a pending mesh call keeps the process alive', () => {
  it.each([
    { kind: 'ESM', file: 'call.mts', scenario: 'backoff', code: 'WEFT_ERR_RETRIES_EXHAUSTED' },
    { kind: 'CJS', file: 'call.cts', scenario: 'backoff', code: 'WEFT_ERR_RETRIES_EXHAUSTED' },
    { kind: 'ESM', file: 'call.mts', scenario: 'delay', code: 'WEFT_ERR_RETRIES_EXHAUSTED' },
  ])(
    '$kind, waiting in a retry $scenario: the rejection is printed, then the process exits on its own',
    async ({ file, scenario, code }) => {
      const r = await run(file, scenario);
      // Without the hold: ESM exits with 13 ("unsettled top-level await"), CJS with 0 and no output.
      expect({ code: r.code, stdout: r.stdout.trim() }, r.stderr).toEqual({ code: 0, stdout: `REJECTED ${code}` });
    },
  );
});
