import { isWeftError } from '../errors/index.js';

/**
 * The outcome of one call, as every policy understands it: an HTTP status (100–599), or one of
 * the codes below for calls that ended without a response. A plain number (not an object) so the
 * proxy can feed breakers, detectors and budgets on the hot path without allocating.
 */
export type CallOutcome = number;

/**
 * Outcome codes for calls that got no HTTP status. Negative codes are local-origin failures (the
 * upstream never answered); `Cancelled` and `Rejected` are neither success nor failure.
 */
export const Outcome = {
  /** A successful call that has no HTTP status of its own (a plain function). */
  Success: 200,
  /** The caller gave up (its AbortSignal fired): says nothing about the upstream's health. */
  Cancelled: 0,
  /** The connection could not be established (refused, DNS failure, connect timeout). */
  ConnectFailure: -1,
  /** The connection was reset or closed before a response (Amalgam8's `return_code: -1`). */
  Reset: -2,
  /** A timeout expired before a response. */
  Timeout: -3,
  /** Any other error thrown by the call. */
  Error: -4,
  /**
   * A local policy refused the call (circuit open, bulkhead full, budget spent): the upstream was
   * never asked, so its health is unaffected.
   */
  Rejected: -5,
  /**
   * A rate limit refused the call (no token in its bucket): a {@link Outcome.Rejected} of its own
   * word, so access logs and metrics tell "too many requests from here" from a tripped breaker.
   * Neutral like every local refusal.
   */
  RateLimited: -6,
} as const;

/**
 * The one word list for outcomes, used in attempt histories, error messages, access logs and
 * metrics by every package: an HTTP status as its digits, else `connect-failure`, `reset`,
 * `timeout`, `error`, `rejected`, `rate-limited` or `cancelled` (Envoy's `retry_on` spelling).
 */
export function outcomeWord(outcome: CallOutcome): string {
  switch (outcome) {
    case Outcome.ConnectFailure:
      return 'connect-failure';
    case Outcome.Reset:
      return 'reset';
    case Outcome.Timeout:
      return 'timeout';
    case Outcome.Rejected:
      return 'rejected';
    case Outcome.RateLimited:
      return 'rate-limited';
    case Outcome.Cancelled:
      return 'cancelled';
    default:
      return outcome > 0 ? String(outcome) : 'error';
  }
}

/** True for outcomes that say nothing about the upstream: cancelled by the caller, or refused locally. */
export function isNeutral(outcome: CallOutcome): boolean {
  return outcome === Outcome.Cancelled || outcome === Outcome.Rejected || outcome === Outcome.RateLimited;
}

/**
 * True for a 5xx or any local-origin failure — Envoy's `5xx` class (which includes "no response
 * at all": connect failures, resets, timeouts).
 */
export function isServerError(outcome: CallOutcome): boolean {
  return outcome >= 500 || (outcome < 0 && outcome !== Outcome.Rejected && outcome !== Outcome.RateLimited);
}

/**
 * True for 502, 503, 504 and the local-origin failures a gateway would turn into one of them
 * (connect failure and reset → 503, timeout → 504) — Envoy's `gateway-error` class. A generic
 * thrown error is not a gateway error: it may be a bug in the caller's own code.
 */
export function isGatewayError(outcome: CallOutcome): boolean {
  return (
    outcome === 502 ||
    outcome === 503 ||
    outcome === 504 ||
    outcome === Outcome.ConnectFailure ||
    outcome === Outcome.Reset ||
    outcome === Outcome.Timeout
  );
}

/** Maps a call's value or error to a {@link CallOutcome}. Policies that run functions take one. */
export interface Classifier {
  /** Outcome of a call that returned `value`. */
  result(value: unknown): CallOutcome;
  /** Outcome of a call that threw `error` (the caller's own abort is detected before this). */
  error(error: unknown): CallOutcome;
}

const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

function statusOf(value: object): number | undefined {
  const v = value as { status?: unknown; statusCode?: unknown };
  const s = typeof v.status === 'number' ? v.status : v.statusCode;
  return typeof s === 'number' && s >= 100 && s <= 599 ? s : undefined;
}

/** Outcome of a returned value: its `status` / `statusCode` (fetch `Response`, undici) or 200. */
export function outcomeOfResult(value: unknown): CallOutcome {
  if (typeof value === 'object' && value !== null) return statusOf(value) ?? Outcome.Success;
  return Outcome.Success;
}

/**
 * Outcome of a thrown error. Weft's own errors map by code (a timeout is `Timeout`, a local
 * rejection is `Rejected`, exhausted retries carry their last outcome); Node and undici errors
 * map by `code` — looked up along the `cause` chain because `fetch` wraps them ("fetch failed").
 */
export function outcomeOfError(error: unknown): CallOutcome {
  let e: unknown = error;
  for (let depth = 0; depth < 5 && typeof e === 'object' && e !== null; depth++) {
    if (isWeftError(e)) {
      switch (e.code) {
        case 'WEFT_ERR_TIMEOUT':
          return Outcome.Timeout;
        case 'WEFT_ERR_ABORTED':
          return Outcome.Cancelled;
        case 'WEFT_ERR_CIRCUIT_OPEN':
        case 'WEFT_ERR_BULKHEAD_FULL':
        case 'WEFT_ERR_RETRY_BUDGET_EXHAUSTED':
          return Outcome.Rejected;
        case 'WEFT_ERR_RATE_LIMITED':
          return Outcome.RateLimited;
        // An mTLS upstream that did not prove its identity: the connection was never usable.
        case 'WEFT_ERR_PEER_IDENTITY':
          return Outcome.ConnectFailure;
        case 'WEFT_ERR_RETRIES_EXHAUSTED': {
          const last = (e as { lastOutcome?: unknown }).lastOutcome;
          return typeof last === 'number' ? last : Outcome.Error;
        }
        default:
          return e.status;
      }
    }
    const { code, name } = e as { code?: unknown; name?: unknown };
    if (typeof code === 'string') {
      if (CONNECT_CODES.has(code)) return Outcome.ConnectFailure;
      if (RESET_CODES.has(code)) return Outcome.Reset;
      if (TIMEOUT_CODES.has(code)) return Outcome.Timeout;
    }
    if (name === 'TimeoutError') return Outcome.Timeout; // AbortSignal.timeout()'s DOMException
    if (name === 'AbortError') return Outcome.Cancelled;
    const status = statusOf(e);
    if (status !== undefined) return status;
    e = (e as { cause?: unknown }).cause;
  }
  return Outcome.Error;
}

/** The classifier every policy uses unless given another. */
export const defaultClassifier: Classifier = { result: outcomeOfResult, error: outcomeOfError };
