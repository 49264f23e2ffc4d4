import { type ErrorCode, Outcome } from '@weft/core';
import type { MeshAttempt } from '../errors.js';
import type { BodySource } from './body.js';
import { NotRetried } from './retry-decision.js';

/** The code of an error or of one of its causes (fetch and pools wrap socket errors). */
function codeOf(error: unknown): string | undefined {
  let e = error;
  for (let depth = 0; depth < 4 && typeof e === 'object' && e !== null; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && !code.startsWith('WEFT_')) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * What went wrong with an attempt that got no response, said plainly:
 * `connection refused by 10.0.0.7:9080`, `10.0.0.7:9080 closed the connection before responding`.
 */
export function failureText(a: MeshAttempt | undefined): string {
  if (a === undefined) return 'no attempt was made';
  const ep = a.endpoint;
  const code = codeOf(a.error);
  const detail = a.error === undefined ? '' : ` (${a.error.message})`;
  switch (a.outcome) {
    case Outcome.ConnectFailure:
      if (code === 'ECONNREFUSED') return `connection refused by ${ep}`;
      if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT') return `connecting to ${ep} timed out`;
      return `could not connect to ${ep}${detail}`;
    case Outcome.Reset:
      if (code === 'ECONNRESET') return `connection reset by ${ep} before a response`;
      return `${ep} closed the connection before responding${detail}`;
    case Outcome.Timeout:
      // The engine's per-try timeout says how long it waited; a pool's timeout has its own words.
      if ((a.error as { code?: unknown } | undefined)?.code === 'WEFT_ERR_TIMEOUT')
        return `no response from ${ep} within the ${a.error?.message}`;
      return `no response from ${ep} in time${detail}`;
    default:
      return a.outcome > 0 ? `${ep} answered ${a.outcome}` : `the attempt to ${ep} failed${detail}`;
  }
}

const KIND: Record<number, string> = {
  [Outcome.ConnectFailure]: 'connect failures',
  [Outcome.Reset]: 'resets',
  [Outcome.Timeout]: 'timeouts',
};

/**
 * The reason a failure was not retried, for `(not retried: …)`; empty when it was (or no reason
 * is known, or the caller words it: an unreplayable body, a spent budget).
 */
export function notRetriedText(why: number, outcome: number, method: string): string {
  switch (why) {
    case NotRetried.TooLate:
      return "the upstream's Retry-After outlasts the call's timeout";
    case NotRetried.Off:
      return 'retries are off';
    case NotRetried.NotIdempotent:
      return `${method} is not idempotent`;
    case NotRetried.NotCovered: {
      const kind = KIND[outcome];
      return kind === undefined
        ? 'only connect failures, resets, timeouts and 5xx answers are retried'
        : `the retry policy does not cover ${kind}`;
    }
    default:
      return '';
  }
}

/** The error of a call that ended without a response, before it is made (see {@link finalFailure}). */
export interface FinalFailure {
  readonly code: ErrorCode;
  readonly message: string;
  readonly status: number;
  readonly cause: Error | undefined;
}

/**
 * The call ends without a response: every allowed attempt failed, or the last failure could
 * not be retried. The message says what happened (`what`: method, service and path) and, when
 * there was no retry, why not (`why`: the last retry decision's {@link NotRetried}, 0 if none).
 */
export function finalFailure(
  what: string,
  method: string,
  history: readonly MeshAttempt[] | undefined,
  why: number,
  body: BodySource | undefined,
  tries: number,
): FinalFailure {
  const last = history?.at(-1);
  if (why === NotRetried.BudgetSpent) {
    const message = `${what} failed and the retry budget is spent: ${failureText(last)}`;
    return { code: 'WEFT_ERR_RETRY_BUDGET_EXHAUSTED', message, status: 503, cause: undefined };
  }
  const reason =
    why === NotRetried.NotReplayable
      ? (body?.notReplayableReason ?? '')
      : last === undefined
        ? ''
        : notRetriedText(why, last.outcome, method);
  const note = reason === '' ? '' : ` (not retried: ${reason})`;
  if (last?.outcome === Outcome.Timeout && tries === 1) {
    const message = `${what} timed out: ${failureText(last)}${note}`;
    return { code: 'WEFT_ERR_TIMEOUT', message, status: 504, cause: last.error };
  }
  const n = history?.length ?? 0;
  const head = n > 1 ? `${what} failed after ${n} attempts, the last: ` : `${what} failed: `;
  return {
    code: 'WEFT_ERR_RETRIES_EXHAUSTED',
    message: `${head}${failureText(last)}${note}`,
    status: 504,
    cause: last?.error,
  };
}
