/**
 * The smoke checks every way of getting `weft` runs alike (a fresh clone, an installed tarball):
 * it answers `--help`, and it serves the control plane and stops cleanly on SIGTERM.
 */
import { expect } from 'vitest';
import { listeningUrl, runWeft, startWeft } from './weft-process.js';

/** `weft --help` from `bin` exits 0, says nothing on stderr, and lists the commands. */
export async function expectHelp(bin: string, cwd: string): Promise<void> {
  const r = await runWeft(['--help'], { bin, cwd });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('control-plane');
}

/**
 * `weft control-plane` from `bin` starts listening (within `listenMs`, default as `listeningUrl`),
 * takes a registration, and exits 0 on SIGTERM.
 */
export async function expectServesControlPlane(bin: string, cwd: string, listenMs?: number): Promise<void> {
  const weft = startWeft(['control-plane', '--port', '0', '--log-level', 'warn'], { bin, cwd });
  try {
    const url = await listeningUrl(weft, listenMs);
    const res = await fetch(`${url}/api/v1/instances`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ service_name: 'details', endpoint: { type: 'http', value: '10.0.0.9:9080' } }),
    });
    expect(res.status).toBe(201);
  } finally {
    weft.child.kill('SIGTERM');
  }
  expect(await weft.exited).toBe(0);
}
