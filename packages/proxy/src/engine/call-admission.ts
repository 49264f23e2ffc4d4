import type { Bulkhead, ErrorCode, RateLimitSettings } from '@weft/core';
import type { Dispatcher } from 'undici';
import { admitRate } from './admission.js';
import { authorize } from './authorization.js';
import type { CallExtras } from './call-extras.js';
import type { EngineContext } from './engine-context.js';
import type { CallInit } from './options.js';
import { rateLimitedError } from './rate-limit.js';
import type { RoutePlan } from './route.js';
import type { ServiceTable } from './service-table.js';

/**
 * What the call's own admission needs of it (`MeshCall`; an interface, so no import circle):
 * whether the call may go on at all (authorization, the rate limit, the backend's bulkhead),
 * before any endpoint is picked (the endpoints' breakers are `admission.ts`'s).
 */
export interface AdmittedCall {
  readonly engine: EngineContext;
  readonly table: ServiceTable;
  readonly service: string;
  readonly requestId: string;
  readonly opts: Dispatcher.DispatchOptions;
  readonly init: CallInit | undefined;
  readonly plan: RoutePlan;
  readonly finished: boolean;
  /** A request header as the rules see it (the authority standing in for a missing Host). */
  routeHeader(lowerName: string): string | undefined;
  extras(): CallExtras;
  holdLoop(): void;
  nextAttempt(transparent: boolean, at?: number): void;
  finishWithError(err: Error, status: number): void;
  fail(code: ErrorCode, message: string, status: number, cause?: unknown): void;
}

/** Judges a call that entered through a front end; a refused one fails at once (403, counted). */
export function refusedByAuthorization(call: AdmittedCall, peer: NonNullable<CallInit['peer']>): boolean {
  const refusal = authorize(call.engine.authorizer as NonNullable<EngineContext['authorizer']>, {
    service: call.service,
    requestId: call.requestId,
    method: call.opts.method,
    path: call.init?.routePath ?? call.opts.path,
    header: (name) => call.routeHeader(name),
    peer,
  });
  if (refusal === undefined) return false;
  const counters = call.table.counters;
  if (counters !== undefined) counters.denied++;
  call.finishWithError(refusal, 403);
  return true;
}

/** Takes a token of the call's rate limit; without one the call fails at once (429, counted). */
export function refusedByRateLimit(call: AdmittedCall, limit: RateLimitSettings): boolean {
  const engine = call.engine;
  const source = (call.init?.source ?? engine.options.identity)?.name;
  const waitMs = admitRate(engine.rateLimits, limit, call.service, source, call.init?.clientIp);
  if (waitMs === 0) return false;
  call.table.counters?.rateLimit(limit === engine.rateLimit ? 'proxy' : 'rule');
  const what = { service: call.service, requestId: call.requestId, method: call.opts.method, path: call.opts.path };
  call.finishWithError(rateLimitedError(what, limit, waitMs), 429);
  return true;
}

/** Waits in the backend's bulkhead queue (the overall timeout and an abort still apply). */
export function waitForSlot(call: AdmittedCall, bulkhead: Bulkhead): void {
  const waiting = new AbortController();
  const x = call.extras();
  x.queueWait = waiting;
  call.holdLoop();
  bulkhead.acquire(waiting.signal).then(
    () => {
      x.queueWait = undefined;
      if (call.finished) {
        bulkhead.release();
        return;
      }
      x.bulkhead = bulkhead;
      call.nextAttempt(false);
    },
    () => {
      x.queueWait = undefined;
      if (!call.finished) failBulkheadFull(call, bulkhead);
    },
  );
}

/** The backend's bulkhead and its queue are full: the call fails at once (503). */
export function failBulkheadFull(call: AdmittedCall, bulkhead: Bulkhead): void {
  const tags = call.plan.backendTags.length > 0 ? ` (${call.plan.backendTags.join(',')})` : '';
  call.fail(
    'WEFT_ERR_BULKHEAD_FULL',
    `The backend of ${call.service}${tags} is at its limit of ${bulkhead.maxConcurrent} concurrent requests and ${bulkhead.maxQueue} pending`,
    503,
  );
}
