import { createServer } from 'node:net';

/** Loopback address every test server binds to. */
export const LOOPBACK = '127.0.0.1';

function listenEphemeral(host: string): Promise<{ port: number; close: () => Promise<void> }> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ host, port: 0, exclusive: true }, () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        srv.close();
        reject(new Error(`could not read the ephemeral port bound on ${host}`));
        return;
      }
      resolve({
        port: addr.port,
        close: () => new Promise<void>((done) => srv.close(() => done())),
      });
    });
  });
}

/**
 * A TCP port on `host` that was free a moment ago (the kernel picked it for a
 * listener that is closed again before returning). Another process may still
 * grab it before the caller binds: start servers soon after asking.
 */
export async function freePort(host: string = LOOPBACK): Promise<number> {
  const l = await listenEphemeral(host);
  await l.close();
  return l.port;
}

/** `count` distinct free ports (all are held open together, so none repeats). */
export async function freePorts(count: number, host: string = LOOPBACK): Promise<number[]> {
  const held: Array<{ port: number; close: () => Promise<void> }> = [];
  try {
    for (let i = 0; i < count; i++) held.push(await listenEphemeral(host));
    return held.map((h) => h.port);
  } finally {
    await Promise.all(held.map((h) => h.close()));
  }
}

export interface WaitForOptions {
  /** Poll interval in ms (default 100). */
  intervalMs?: number;
  /** What is being waited for, used in the timeout error. */
  description?: string;
  /** Aborts the wait early (the abort reason is thrown). */
  signal?: AbortSignal;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls `fn` until it returns a value other than `undefined`, `null` or
 * `false` and returns that value. A throw from `fn` counts as "not yet"; the
 * last one is quoted in the timeout error.
 */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  timeoutMs = 10_000,
  options: WaitForOptions = {},
): Promise<Exclude<T, undefined | null | false>> {
  const interval = options.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      const v = await fn();
      if (v !== undefined && v !== null && v !== false) return v as Exclude<T, undefined | null | false>;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) break;
    await sleep(Math.min(interval, Math.max(0, deadline - Date.now())));
  }
  const what = options.description ?? 'condition';
  const why =
    lastError === undefined
      ? ''
      : `; last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
  throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}${why}`);
}
