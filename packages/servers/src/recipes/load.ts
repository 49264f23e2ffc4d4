import { setTimeout as sleep } from 'node:timers/promises';

/** The load a run sends through the application's entry while its faults are in place. */
export interface LoadSpec {
  /** The entry: a gateway's or a sidecar's URL of the first service, e.g. `http://127.0.0.1:6379/productpage/`. */
  readonly url: string;
  /** Requests per second. */
  readonly rate: number;
  readonly durationMs: number;
  /** At most this many requests in flight; a request due while they are waits for one to end. */
  readonly concurrency: number;
  /** A request not answered within this is given up (and counted as such). */
  readonly timeoutMs: number;
  readonly method?: string;
  /** Sent with every request (the run's scoping header among them). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** What one request of the load got. */
export interface LoadOutcome {
  readonly requestId: string;
  /** The status, or 0 when no response came (see `error`). */
  readonly status: number;
  readonly latencyMs: number;
  readonly error?: string;
}

/** The load's result. */
export interface LoadResult {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly outcomes: readonly LoadOutcome[];
  /** Requests sent later than their slot because `concurrency` were in flight. */
  readonly late: number;
}

/** Progress for a progress bar: requests sent and done so far, of `total`. */
export interface LoadProgress {
  readonly sent: number;
  readonly done: number;
  readonly total: number;
  readonly elapsedMs: number;
  readonly durationMs: number;
}

/** The number of requests a load sends. */
export const loadTotal = (spec: LoadSpec): number => Math.max(1, Math.round((spec.rate * spec.durationMs) / 1000));

/**
 * Sends the load: `rate` requests a second for `durationMs` (evenly spaced, open loop, at most
 * `concurrency` in flight), each with `X-Request-ID: <requestId(n)>` and `headers`, then waits for
 * the ones in flight. Stops sending when `signal` aborts, and abandons the requests in flight.
 */
export async function runLoad(
  spec: LoadSpec,
  requestId: (n: number) => string,
  options: { signal?: AbortSignal; onProgress?: (p: LoadProgress) => void } = {},
): Promise<LoadResult> {
  const total = loadTotal(spec);
  const spacing = 1000 / spec.rate;
  const outcomes: LoadOutcome[] = [];
  const inFlight = new Set<Promise<void>>();
  const startedAt = Date.now();
  let late = 0;
  let sent = 0;
  const progress = (): void =>
    options.onProgress?.({
      sent,
      done: outcomes.length,
      total,
      elapsedMs: Date.now() - startedAt,
      durationMs: spec.durationMs,
    });

  const send = async (n: number): Promise<void> => {
    const id = requestId(n);
    const begin = performance.now();
    const signals = [AbortSignal.timeout(spec.timeoutMs), ...(options.signal === undefined ? [] : [options.signal])];
    try {
      const res = await fetch(spec.url, {
        method: spec.method ?? 'GET',
        headers: { ...spec.headers, 'x-request-id': id },
        signal: AbortSignal.any(signals),
      });
      await res.arrayBuffer();
      outcomes.push({ requestId: id, status: res.status, latencyMs: performance.now() - begin });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      const error = e.name === 'TimeoutError' ? `no answer within ${spec.timeoutMs}ms` : (e.cause?.code ?? e.message);
      outcomes.push({ requestId: id, status: 0, latencyMs: performance.now() - begin, error });
    }
    progress();
  };

  for (let n = 1; n <= total; n++) {
    if (options.signal?.aborted) break;
    const due = startedAt + (n - 1) * spacing;
    const wait = due - Date.now();
    if (wait > 0)
      try {
        await sleep(wait, undefined, options.signal === undefined ? {} : { signal: options.signal });
      } catch {
        break;
      }
    if (inFlight.size >= spec.concurrency) {
      late++;
      await Promise.race(inFlight);
    }
    const p: Promise<void> = send(n).finally(() => inFlight.delete(p));
    inFlight.add(p);
    sent++;
    progress();
  }
  await Promise.all(inFlight);
  return { startedAt, endedAt: Date.now(), outcomes, late };
}
