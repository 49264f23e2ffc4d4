import { CircuitRejection, type RateLimitSettings } from '@weft/core';
import type { RateLimits } from './rate-limit.js';
import type { EndpointEntry } from './service-table.js';
import type { Picker } from './types.js';

/**
 * Why an endpoint did not admit an attempt: its breaker's {@link CircuitRejection} (`Open`,
 * `HalfOpenFull`), or its per-endpoint concurrency cap. Negative, like the breaker's refusals,
 * so one number is either a breaker token (>= 0) or a reason.
 */
export const Refusal = {
  /** The breaker is open (or isolated). */
  CircuitOpen: CircuitRejection.Open,
  /** The breaker is half-open and every probe slot is taken. */
  ProbesBusy: CircuitRejection.HalfOpenFull,
  /** The endpoint has `breaker.maxRequests` requests in flight. */
  AtMaxRequests: -3,
} as const;
export type Refusal = (typeof Refusal)[keyof typeof Refusal];

/**
 * Asks the call's rate limit for a token: the first admission step, before an endpoint is picked
 * or a bulkhead slot taken (a refused call costs the upstream nothing). Only called when a limit
 * applies (the route's `rate_limit`, else the proxy's `rateLimit`), so a proxy without limits
 * pays one null check per call.
 *
 * @param source - the calling service's name, as the rules see it.
 * @param clientIp - the peer address of the proxy's client connection (a gateway's client).
 * @returns 0 when admitted, else the milliseconds until the bucket has a token (answer 429 with
 *   `Retry-After`).
 */
export function admitRate(
  limits: RateLimits,
  limit: RateLimitSettings,
  service: string,
  source: string | undefined,
  clientIp: string | undefined,
): number {
  return limits.group(limit, service).take(source, clientIp);
}

/** What {@link pickEndpoint} reads of a subset: its picker and its panic cursor. */
export interface PickFrom {
  readonly picker: Picker<EndpointEntry>;
  panicCursor: number;
}

/** No endpoint to pick: the subset is empty. */
export const NO_ENDPOINT = -1;

/**
 * Asks one endpoint to admit an attempt: under its concurrency cap, then its breaker.
 *
 * @returns a breaker token (>= 0; release it with `breaker.release(token, outcome)`), or a
 *   negative {@link Refusal}.
 */
export function admit(entry: Pick<EndpointEntry, 'inflight' | 'breaker'>, maxRequests: number): number {
  return entry.inflight < maxRequests ? entry.breaker.tryAcquire() : Refusal.AtMaxRequests;
}

/** Says why an endpoint refused, for the attempt history. */
export function refusalText(refusal: number, entry: Pick<EndpointEntry, 'breaker'>, maxRequests: number): string {
  return refusal === Refusal.AtMaxRequests
    ? `${maxRequests} requests in flight`
    : `circuit breaker ${entry.breaker.state}`;
}

/**
 * Picks the endpoint of an attempt from the subset's picker:
 * - a retry goes to another endpoint than `avoid` (the one that just failed) when a healthy one
 *   exists — picking again is not enough: least-request favours a dead endpoint, since connect
 *   failures leave it idle;
 * - when every endpoint is ejected (the picker has none), panic: spread over all of them rather
 *   than fail (Envoy's panic threshold reached 0 %).
 *
 * @returns an index into `subset.picker.endpoints`, or {@link NO_ENDPOINT} when there is none.
 */
export function pickEndpoint(subset: PickFrom, hashKey: string | undefined, avoid: EndpointEntry | undefined): number {
  const picker = subset.picker;
  let index = picker.pickIndex(hashKey);
  const n = picker.endpoints.length;
  if (index >= 0 && n > 1 && avoid !== undefined && picker.endpoints[index] === avoid) {
    const again = picker.pickIndex(hashKey);
    if (again >= 0 && picker.endpoints[again] !== avoid) index = again;
    else
      for (let k = 1; k < n; k++) {
        const j = (index + k) % n;
        if (!picker.isEjected(j) && picker.endpoints[j] !== avoid) {
          index = j;
          break;
        }
      }
  }
  if (index >= 0) return index;
  return n === 0 ? NO_ENDPOINT : subset.panicCursor++ % n;
}

/** An endpoint that admitted an attempt after the picked one refused. */
export interface Admitted {
  readonly index: number;
  readonly token: number;
}

/**
 * After the picked endpoint refused, asks the others (not ejected) in turn from there. Only on
 * refusals, so it may allocate.
 *
 * @returns the first endpoint that admits, or undefined when every one refuses.
 */
export function admitAnother(
  picker: Picker<EndpointEntry>,
  refused: number,
  maxRequests: number,
): Admitted | undefined {
  const n = picker.endpoints.length;
  for (let k = 1; k < n; k++) {
    const j = (refused + k) % n;
    if (picker.isEjected(j)) continue;
    const token = admit(picker.endpoints[j] as EndpointEntry, maxRequests);
    if (token >= 0) return { index: j, token };
  }
  return undefined;
}
