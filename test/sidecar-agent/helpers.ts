/** What the sidecar agent's process tests share: free ports, polling, and a look at /proc. */
import { readdirSync, readFileSync } from 'node:fs';
// The examples' mesh helpers wait the same way; tests use them (packages never import tests).
import { until as untilWithin } from '../../packages/examples/src/mesh/wait.js';
import type { WeftProcess } from '../servers-cli/weft-process.js';

/** A port nothing listens on right now (the apps need theirs before they start, to be registered). */
export { freePort } from '../../packages/examples/src/mesh/wait.js';

/** Polls `probe` until it returns something other than undefined; fails with `what` after `ms` (10 s by default). */
export function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  return untilWithin(what, probe, ms);
}

/** Kills (SIGKILL) whichever of `processes` still run, and waits until every one has exited. */
export async function killAll(processes: readonly WeftProcess[]): Promise<void> {
  for (const p of processes) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await Promise.all(processes.map((p) => p.exited));
}

/** GET → status and body text. */
export async function get(url: string, init?: RequestInit): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: await res.text() };
}

/** The instances of a service in the registry (empty when it is unknown). */
export async function registered(registryUrl: string, service: string): Promise<unknown[]> {
  const res = await fetch(`${registryUrl}/api/v1/services/${service}`, { signal: AbortSignal.timeout(5000) });
  if (res.status === 404) return [];
  const body = (await res.json()) as { instances?: unknown[] };
  return body.instances ?? [];
}

/** Pids of every process whose command line contains `marker` (a unique string the test gave it). */
export function processesWith(marker: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      // A zombie has an empty command line: it is gone as far as the app is concerned.
      if (cmdline.includes(marker)) out.push(Number(entry));
    } catch {
      // It ended while we looked.
    }
  }
  return out;
}

/** The "listening on <proxy url> (admin <admin url>" line of `weft sidecar`. */
export async function sidecarUrls(p: WeftProcess, ms = 20_000): Promise<{ proxy: string; admin: string }> {
  const deadline = Date.now() + ms;
  for (;;) {
    const m = /listening on (\S+) \(admin (http:\/\/[^,)\s]+)/.exec(p.stderr());
    if (m !== null) return { proxy: m[1] as string, admin: m[2] as string };
    if (p.child.exitCode !== null || Date.now() > deadline)
      throw new Error(`weft sidecar did not start (exit ${p.child.exitCode}):\n${p.stderr()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** GET /health of a sidecar's admin listener. */
export async function health(admin: string): Promise<Record<string, unknown> & { status: string }> {
  const res = await fetch(`${admin}/health`, { signal: AbortSignal.timeout(5000) });
  return (await res.json()) as Record<string, unknown> & { status: string };
}

/**
 * Waits until the sidecar's /health reports its registration in `state`, and returns it. A store
 * (or the registry server) lists the instance as soon as the write lands; the sidecar records the
 * new state when its call returns, a moment later, so reading /health once right after the store
 * shows the instance races.
 */
export function untilRegistration(
  admin: string,
  state: 'registered' | 'unregistered' | 'registering',
): Promise<Record<string, unknown>> {
  return until(`the sidecar to report ${state}`, async () => {
    const registration = (await health(admin)).registration as Record<string, unknown> | undefined;
    return registration?.state === state ? registration : undefined;
  });
}
