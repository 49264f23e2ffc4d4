import { type BackoffOptions, type Clock, systemClock, type ValidationIssue } from '@weft/core';
import { WATCH_BACKOFF } from '../internal/backoff.js';
import { checkMs } from './connection-options.js';

/** How a client follows a server read, best first: Server-Sent Events, long-poll, plain polling. */
export type WatchTransport = 'sse' | 'long-poll' | 'poll';

/** The transports from best to simplest. */
export const TRANSPORTS: readonly WatchTransport[] = ['sse', 'long-poll', 'poll'];

/** How the Weft sources follow their server; shared by {@link WeftRegistrySource} and {@link WeftRulesSource}. */
export interface FollowOptions {
  /**
   * The best transport to use: `sse` (default), `long-poll` or `poll`. The source falls back to
   * simpler ones when the server or a proxy refuses it, never to better ones than this.
   */
  transport?: WatchTransport;
  /** How long the server may hold a long-poll, ms (sent as `wait`). Default 30 000. */
  longPollWaitMs?: number;
  /** Interval of plain polling, the last fallback, ms. Default 5 000. */
  pollIntervalMs?: number;
  /**
   * An event stream silent for this long counts as dead and is reconnected, ms. The servers send
   * a keep-alive comment every 15 s, so the default, 45 000, is three missed keep-alives.
   */
  sseIdleTimeoutMs?: number;
  /** After falling back, the preferred transport is tried again after this long, ms. Default 300 000. */
  retryPreferredAfterMs?: number;
  /** Backoff between failed requests. Default 100 ms doubling to 5 s, full jitter. */
  backoff?: BackoffOptions;
  /** Clock for sleeps and timeouts; the system clock by default. */
  clock?: Clock;
  /**
   * The name this proxy reports to the server in the `x-weft-proxy` header of every read, so the
   * server can list who follows it and how far behind (`weft status`). Default
   * `<hostname>:<pid>`.
   */
  proxyName?: string;
}

/** Validated {@link FollowOptions}. */
export interface ResolvedFollowOptions {
  readonly transport: WatchTransport;
  readonly longPollWaitMs: number;
  readonly pollIntervalMs: number;
  readonly sseIdleTimeoutMs: number;
  readonly retryPreferredAfterMs: number;
  readonly backoff: BackoffOptions;
  readonly clock: Clock;
}

/** Validates {@link FollowOptions}, adding every problem to `issues`. */
export function resolveFollowOptions(options: FollowOptions, issues: ValidationIssue[]): ResolvedFollowOptions {
  const transport = options.transport ?? 'sse';
  if (!TRANSPORTS.includes(transport))
    issues.push({ path: 'transport', message: `must be one of ${TRANSPORTS.join(', ')} (got ${String(transport)})` });
  checkMs(issues, 'longPollWaitMs', options.longPollWaitMs, 1_000);
  checkMs(issues, 'pollIntervalMs', options.pollIntervalMs, 10);
  checkMs(issues, 'sseIdleTimeoutMs', options.sseIdleTimeoutMs, 10);
  // Below a second a refused transport would be retried on nearly every step.
  checkMs(issues, 'retryPreferredAfterMs', options.retryPreferredAfterMs, 1_000);
  const b = options.backoff ?? {};
  checkMs(issues, 'backoff.baseMs', b.baseMs);
  checkMs(issues, 'backoff.maxMs', b.maxMs);
  return {
    transport,
    longPollWaitMs: options.longPollWaitMs ?? 30_000,
    pollIntervalMs: options.pollIntervalMs ?? 5_000,
    sseIdleTimeoutMs: options.sseIdleTimeoutMs ?? 45_000,
    retryPreferredAfterMs: options.retryPreferredAfterMs ?? 300_000,
    backoff: { ...WATCH_BACKOFF, ...b },
    clock: options.clock ?? systemClock,
  };
}
