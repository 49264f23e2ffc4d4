/**
 * The single-file bundle the build makes (packages/servers/bundle.config.ts), run as a container
 * would: copied alone into an empty directory — no node_modules anywhere above it — and started
 * with plain `node`. It must serve as the proxy, fed by a `weft control-plane`.
 */
import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleCli } from '../../packages/servers/bundle.config.js';
import { listeningUrl, runWeft, startWeft, type WeftProcess } from '../servers-cli/weft-process.js';
import { get, killAll, sidecarUrls, until } from './helpers.js';

const built = mkdtempSync(join(tmpdir(), 'weft-bundle-build-'));
// A directory of its own under the system temp dir: nothing there resolves a package.
const container = mkdtempSync(join(tmpdir(), 'weft-bundle-run-'));
const bundle = join(container, 'weft.bundle.mjs');
const started: WeftProcess[] = [];
let upstream: Server;

beforeAll(async () => {
  await bundleCli(join(built, 'weft.bundle.mjs'));
  copyFileSync(join(built, 'weft.bundle.mjs'), bundle);
  upstream = createServer((req, res) => res.end(`bundled proxy reached ${req.url}`));
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
}, 60_000);

afterAll(async () => {
  await killAll(started);
  await new Promise((r) => upstream?.close(r));
  rmSync(built, { recursive: true, force: true });
  rmSync(container, { recursive: true, force: true });
});

describe('dist/weft.bundle.mjs', () => {
  it('is one file that runs with plain node, away from any node_modules', async () => {
    expect(statSync(bundle).size).toBeGreaterThan(1_000_000); // the dependencies are inside
    const version = await runWeft(['--version'], { bin: bundle, cwd: container });
    expect(version).toMatchObject({ code: 0, stdout: expect.stringMatching(/^weft \d+\.\d+\.\d+/) });
  });

  it('runs a control plane and a sidecar that routes through it', async () => {
    const cp = startWeft(['control-plane', '--port', '0', '--log-level', 'warn'], { bin: bundle, cwd: container });
    started.push(cp);
    const controlPlane = await listeningUrl(cp);
    const port = (upstream.address() as { port: number }).port;
    const res = await fetch(`${controlPlane}/api/v1/instances`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ service_name: 'web', endpoint: { type: 'http', value: `127.0.0.1:${port}` }, ttl: 600 }),
    });
    expect(res.status).toBe(201);

    const sidecar = startWeft(
      ['sidecar', '--no-register', '--proxy-port', '0', '--admin-port', '0', '--registry-url', controlPlane],
      { bin: bundle, cwd: container, env: { WEFT_LOG_LEVEL: 'warn' } },
    );
    started.push(sidecar);
    const { proxy } = await sidecarUrls(sidecar);
    const answer = await until('the bundled sidecar to route to web', async () => {
      const r = await get(`${proxy}/web/hi`);
      return r.status === 200 ? r.body : undefined;
    });
    expect(answer).toBe('bundled proxy reached /hi');
    sidecar.child.kill('SIGTERM');
    expect(await sidecar.exited).toBe(0);
  });
});
