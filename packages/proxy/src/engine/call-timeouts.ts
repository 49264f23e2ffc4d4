import { type ErrorCode, Outcome, type TimerHandle } from '@weft/core';
import type { Dispatcher } from 'undici';
import { MeshRequestError } from '../errors.js';
import type { Attempt } from './attempt.js';
import type { HasDeadline } from './deadlines.js';
import type { EngineContext } from './engine-context.js';
import type { RoutePlan } from './route.js';
import type { EndpointEntry } from './service-table.js';

/**
 * What a call's timeouts need of it (`MeshCall`). An interface, so this module does not import
 * the call (no import circle); plain functions taking the call, so arming and disarming cost no
 * allocation and stay monomorphic (one class ever reaches them).
 */
export interface TimedCall extends HasDeadline {
  readonly engine: EngineContext;
  readonly service: string;
  readonly requestId: string;
  readonly opts: Dispatcher.DispatchOptions;
  readonly plan: RoutePlan;
  /** `performance.now()` when the call started. */
  readonly startedAt: number;
  readonly attempt: Attempt | undefined;
  readonly committed: Attempt | undefined;
  readonly finished: boolean;
  /** The overall timer of a short timeout (a long one is watched by the engine's sweeper). */
  overall: TimerHandle | undefined;
  /** The overall timeout, ms (0: none). */
  timeoutMs: number;
  settle(a: Attempt, outcome: number, error: Error | undefined): void;
  retryDelay(outcome: number, retryAfterMs: number): number;
  scheduleRetry(failed: EndpointEntry | undefined, delayMs: number): void;
  finalFail(): void;
  fail(code: ErrorCode, message: string, status: number, cause?: unknown): void;
}

/** Arms an attempt's per-try timeout (a route's `perTryTimeoutMs`). */
export function armPerTry(call: TimedCall, a: Attempt, ms: number): void {
  a.timer = call.engine.clock.setTimeout(() => onPerTryTimeout(call, a, ms), ms);
}

function onPerTryTimeout(call: TimedCall, a: Attempt, ms: number): void {
  a.timer = undefined;
  if (a.settled || call.committed !== undefined || call.finished) return;
  const err = new MeshRequestError('WEFT_ERR_TIMEOUT', `per-try timeout of ${ms} ms`, {
    service: call.service,
    requestId: call.requestId,
  });
  call.settle(a, Outcome.Timeout, err);
  if (a.controller !== null) a.controller.abort(err);
  else a.dead = err;
  const delay = call.retryDelay(Outcome.Timeout, -1);
  if (delay >= 0) call.scheduleRetry(a.entry, delay);
  else call.finalFail();
}

/** Arms the call's overall timeout (the route's, else the agent's default). */
export function armOverall(call: TimedCall, ms: number): void {
  const engine = call.engine;
  call.timeoutMs = ms;
  // Armed when the call starts (a route timeout applies to nearly every call): the system
  // clock's time then is the start time just read, so the sweeper need not read it again.
  const origin = engine.timeOrigin;
  if (ms >= 500) engine.deadlines.add(call, ms, origin === undefined ? engine.clock.now() : origin + call.startedAt);
  else call.overall = engine.clock.setTimeout(() => onOverallTimeout(call, ms), ms);
}

/** Disarms the overall timeout (a response was committed, or the call finished). */
export function disarmOverall(call: TimedCall): void {
  if (call.overall !== undefined) {
    call.overall.clear();
    call.overall = undefined;
  }
  if (call.dlList !== null) call.engine.deadlines.delete(call);
}

/** The overall timeout expired before a response was committed: the call fails with a 504. */
export function onOverallTimeout(call: TimedCall, ms: number): void {
  call.overall = undefined;
  if (call.committed !== undefined || call.finished) return;
  const a = call.attempt;
  const err = new MeshRequestError('WEFT_ERR_TIMEOUT', `Timeout of ${ms} ms expired`, {
    service: call.service,
    requestId: call.requestId,
  });
  let waiting = '';
  if (a !== undefined && !a.settled) {
    waiting = ` waiting for ${a.entry.address}`;
    call.settle(a, Outcome.Timeout, err);
    if (a.controller !== null) a.controller.abort(err);
    else a.dead = err;
  }
  // The agent's default timeout is new to many callers: say where it comes from.
  const plan = call.plan;
  const byDefault = plan === call.engine.defaultPlan || plan.timeoutMs === undefined;
  const source = byDefault ? ' (the default timeout: see the `timeoutMs` option)' : '';
  call.fail(
    'WEFT_ERR_TIMEOUT',
    `${call.opts.method} ${call.service}${call.opts.path} timed out after ${ms} ms${waiting}${source}`,
    504,
  );
}
