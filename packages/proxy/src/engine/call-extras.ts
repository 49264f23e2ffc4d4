import type { Bulkhead, TimerHandle } from '@weft/core';
import type { MeshAttempt } from '../errors.js';
import type { MeshSpan } from '../telemetry/otel.js';
import type { NotRetried } from './retry-decision.js';
import type { EndpointEntry } from './service-table.js';

/**
 * The state of a call that most calls never touch: failures and retries, tracing, the access
 * log, bulkheads, mirrors, injected faults. Created on first use, so the common call (one
 * attempt, no tracing, no access log) allocates ~130 B less, and the call object itself stays small.
 */
export class CallExtras {
  /** Why the caller aborted. */
  reason: Error | null = null;
  /** Wall-clock start (access log). */
  startWall = 0;
  /** Time to response headers of the committed attempt, ms (-1: not measured). */
  upstreamMs = -1;
  /** Attempts that failed, or every attempt once one has. */
  history: MeshAttempt[] | undefined = undefined;
  /** A fault delay or a retry backoff. */
  wait: TimerHandle | undefined = undefined;
  /** Why the last failure was not retried (a {@link NotRetried}; 0: it was, or not decided). */
  notRetried: NotRetried | 0 = 0;
  /** The last retry delay, ms (decorrelated jitter grows from it). */
  lastDelay = 0;
  /** The call holds the event loop (see `LoopHold`): it waited on a timer or a queue. */
  holding = false;
  transparentUsed = false;
  /** The endpoint that just failed: a retry goes elsewhere when it can. */
  avoid: EndpointEntry | undefined = undefined;
  span: MeshSpan | undefined = undefined;
  traceId: string | undefined = undefined;
  spanId: string | undefined = undefined;
  /** Trace key/values of the attempts' `trace` actions, flat. */
  traces: string[] | undefined = undefined;
  /** The backend's bulkhead slot this call holds (released when it finishes). */
  bulkhead: Bulkhead | undefined = undefined;
  /** Aborts the wait in the backend's bulkhead queue. */
  queueWait: AbortController | undefined = undefined;
  /** A mirror waiting for the streamed body to be sent (and recorded) by an attempt. */
  mirrorTags: readonly string[] | undefined = undefined;
}
