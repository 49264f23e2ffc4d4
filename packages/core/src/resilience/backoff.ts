/** How random the wait between retries is. */
export type Jitter = 'full' | 'decorrelated' | 'none';

/** Exponential backoff settings. The defaults are Envoy's (25 ms base, 10× base cap). */
export interface BackoffOptions {
  /** First (expected) delay. Default 25 ms. */
  baseMs?: number;
  /** Upper bound of any delay. Default 10 × `baseMs`. */
  maxMs?: number;
  /**
   * `full` (default): uniform in [0, min(max, base·2ⁿ⁻¹)] — spreads a burst of retrying clients
   * best (AWS "Exponential Backoff and Jitter"). `decorrelated`: uniform in [base, 3·previous],
   * capped — grows more smoothly and never waits less than `base`. `none`: base·2ⁿ⁻¹, capped.
   */
  jitter?: Jitter;
}

/** Resolved backoff settings. */
export interface Backoff {
  readonly baseMs: number;
  readonly maxMs: number;
  readonly jitter: Jitter;
}

/** Fills in the defaults of {@link BackoffOptions}. */
export function resolveBackoff(options: BackoffOptions = {}): Backoff {
  const baseMs = options.baseMs ?? 25;
  return { baseMs, maxMs: options.maxMs ?? baseMs * 10, jitter: options.jitter ?? 'full' };
}

/**
 * The delay before retry number `retry` (1 for the first retry).
 *
 * @param previousMs - the previous delay (decorrelated jitter grows from it); 0 before the first.
 * @param random - a uniform [0, 1) source, injectable so tests are deterministic.
 */
export function backoffDelay(backoff: Backoff, retry: number, previousMs: number, random: () => number): number {
  const { baseMs, maxMs } = backoff;
  switch (backoff.jitter) {
    case 'decorrelated': {
      const prev = previousMs > 0 ? previousMs : baseMs;
      return Math.min(maxMs, baseMs + random() * Math.max(0, prev * 3 - baseMs));
    }
    case 'none':
      return Math.min(maxMs, baseMs * 2 ** (retry - 1));
    default:
      return random() * Math.min(maxMs, baseMs * 2 ** (retry - 1));
  }
}
