const SECONDS = /^\s*(\d+(?:\.\d+)?)\s*$/;

/**
 * Parses a `Retry-After` value — delay-seconds or an HTTP-date (RFC 9110 §10.2.3) — into
 * milliseconds from `nowMs`. A date in the past gives 0; garbage gives `undefined`.
 */
export function parseRetryAfter(value: string | number | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value * 1000 : undefined;
  const m = SECONDS.exec(value);
  if (m) return Number(m[1]) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/**
 * Finds a retry hint on a call's value or error: a Weft error's `retryAfterMs` (rate limited,
 * circuit open), or a `Retry-After` header on a fetch `Response` (`headers.get`) or an undici
 * response (`headers['retry-after']`). Returns milliseconds, or `undefined` when there is none.
 */
export function retryAfterOf(value: unknown, nowMs: number): number | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as { retryAfterMs?: unknown; headers?: unknown };
  if (typeof v.retryAfterMs === 'number' && v.retryAfterMs > 0) return v.retryAfterMs;
  const h = v.headers;
  if (typeof h !== 'object' || h === null) return undefined;
  const get = (h as { get?: unknown }).get;
  if (typeof get === 'function') {
    const header: unknown = get.call(h, 'retry-after');
    return typeof header === 'string' ? parseRetryAfter(header, nowMs) : undefined;
  }
  const raw = (h as Record<string, unknown>)['retry-after'];
  const header = Array.isArray(raw) ? raw[0] : raw;
  return typeof header === 'string' ? parseRetryAfter(header, nowMs) : undefined;
}
