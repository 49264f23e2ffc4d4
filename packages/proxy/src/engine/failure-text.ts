import { Outcome } from '@weft/core';
import type { MeshAttempt } from '../errors.js';
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
