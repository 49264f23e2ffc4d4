/**
 * `weft sidecar` and the signals an operator (or an orchestrator) sends: the first asks for a
 * graceful stop, which waits for the app up to shutdown.timeout; a second one is "now", as
 * Ctrl-C twice is in a terminal. Neither may leave the app's processes behind.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startWeft, type WeftProcess } from '../servers-cli/weft-process.js';
import { processesWith, until } from './helpers.js';

const started: WeftProcess[] = [];

const markers: string[] = [];

afterEach(async () => {
  for (const p of started) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  // A sidecar killed outright leaves its app behind, holding the test's pipes open.
  for (const pid of markers.flatMap(processesWith)) process.kill(pid, 'SIGKILL');
  await Promise.all(started.map((p) => p.exited));
  started.length = 0;
});

/** A sidecar supervising an app that ignores SIGTERM (and whose child does too), so only SIGKILL ends it. */
async function stubbornApp(marker: string): Promise<WeftProcess> {
  const p = startWeft([
    'sidecar',
    '--no-register',
    '--no-proxy',
    '--admin-port',
    '0',
    '--shutdown-timeout',
    '30s',
    '--',
    'sh',
    '-c',
    `trap '' TERM; sleep 300 & wait; echo ${marker}`,
  ]);
  started.push(p);
  markers.push(marker);
  await until('the sidecar to start', async () => (p.stderr().includes('listening on') ? true : undefined));
  await until('the app and its child to run', async () => (processesWith(marker).length >= 2 ? true : undefined));
  return p;
}

describe('weft sidecar and signals', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} twice: the second exits at once, before shutdown.timeout, and kills the app's process group`, async () => {
      const marker = `weft-signals-${process.pid}-${Date.now()}-${signal}`;
      const sidecar = await stubbornApp(marker);
      sidecar.child.kill(signal);
      await until('the graceful stop to begin', async () =>
        sidecar.stderr().includes(`${signal}, shutting down`) ? true : undefined,
      );
      // The app ignores SIGTERM: the graceful stop is waiting for it (30 s before SIGKILL).
      await new Promise((r) => setTimeout(r, 300));
      expect(sidecar.child.exitCode).toBeNull();
      expect(processesWith(marker).length).toBeGreaterThanOrEqual(2);

      const second = Date.now();
      sidecar.child.kill(signal);
      expect(await sidecar.exited).toBe(signal === 'SIGTERM' ? 143 : 130);
      expect(Date.now() - second).toBeLessThan(5000);
      expect(sidecar.stderr()).toContain(`${signal} again, exiting at once`);
      // The exit hook SIGKILLs the app's process group: nothing is orphaned.
      await until('the app to be gone', async () => (processesWith(marker).length === 0 ? true : undefined), 3000);
    });
  }
});
