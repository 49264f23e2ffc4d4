import { Outcome } from '@weft/core';
import type { Dispatcher } from 'undici';
import { InjectedResetError, type MeshAttempt } from '../errors.js';
import { reasonPhrase } from '../http1/status-text.js';
import { NO_ENDPOINT, pickEndpoint } from './admission.js';
import type { CallExtras } from './call-extras.js';
import { disarmOverall, type TimedCall } from './call-timeouts.js';
import type { RetryPlan } from './retry-plan.js';
import { type AttemptFault, RESET_FAULT } from './route.js';
import type { EndpointEntry, Subset } from './service-table.js';
import type { Picker } from './types.js';

/**
 * What fault injection needs of its call (`MeshCall`, also the controller its handler sees; an
 * interface, so no import circle). Reached only when the route has faults to roll.
 */
export interface FaultedCall extends TimedCall, Dispatcher.DispatchController {
  readonly handler: Dispatcher.DispatchHandler;
  readonly subset: Subset;
  readonly retry: RetryPlan | undefined;
  extras(): CallExtras;
  holdLoop(): void;
  launch(no: number, picker: Picker<EndpointEntry>, index: number, transparent: boolean, at: number): void;
  failNoEndpoint(): void;
  record(
    no: number,
    entry: EndpointEntry | undefined,
    outcome: number,
    durationMs: number,
    error: Error | undefined,
    transparent: boolean,
  ): void;
  errorOptions(): { service: string; requestId: string; attempts: readonly MeshAttempt[] };
  finishWithError(err: Error, status: number): void;
  finish(status: number, error: Error | undefined): void;
}

/**
 * Rolls the route's faults for attempt `no`, about to go to the endpoint at `index` of `picker`.
 * True when a fault took the attempt over (it is delayed, then launched or aborted; or aborted);
 * false when the call launches it now.
 */
export function applyFault(
  call: FaultedCall,
  roll: (attempt: number, instanceTags: readonly string[]) => AttemptFault | undefined,
  no: number,
  picker: Picker<EndpointEntry>,
  index: number,
  transparent: boolean,
): boolean {
  const entry = picker.endpoints[index] as EndpointEntry;
  const fault = roll(no, entry.instance.tags);
  if (fault === undefined) return false;
  if (fault.traces !== undefined) {
    const x = call.extras();
    if (x.traces === undefined) x.traces = [];
    for (const t of fault.traces) x.traces.push(t.key, t.value);
  }
  if (fault.delayMs !== undefined && fault.delayMs > 0) {
    const x = call.extras();
    call.holdLoop();
    x.wait = call.engine.clock.setTimeout(() => {
      x.wait = undefined;
      if (fault.abort !== undefined) injectAbort(call, no, fault.abort);
      else launchAfterDelay(call, no, entry, picker, index, transparent);
    }, fault.delayMs);
    return true;
  }
  if (fault.abort !== undefined) {
    const code = fault.abort;
    queueMicrotask(() => injectAbort(call, no, code));
    return true;
  }
  return false;
}

/**
 * Launches an attempt whose endpoint was picked before a fault delay. If the endpoint set
 * changed meanwhile, it goes to the same endpoint through the current picker (whose indices
 * and ejection flags are current), or, when the endpoint left, to a new pick.
 */
function launchAfterDelay(
  call: FaultedCall,
  no: number,
  entry: EndpointEntry,
  picker: Picker<EndpointEntry>,
  index: number,
  transparent: boolean,
): void {
  const current = call.subset.picker;
  if (current === picker) {
    call.launch(no, picker, index, transparent, performance.now());
    return;
  }
  let i = call.subset.indexOf(entry);
  if (i < 0) i = pickEndpoint(call.subset, call.plan.hashKey, undefined);
  if (i === NO_ENDPOINT) {
    call.failNoEndpoint();
    return;
  }
  call.launch(no, current, i, transparent, performance.now());
}

function injectAbort(call: FaultedCall, no: number, code: number): void {
  if (call.finished) return;
  if (code === RESET_FAULT) {
    // Amalgam8's `-1`: reset the caller's connection. Deliberate, so never retried (a retry
    // would hide the very failure the rule injects), and no endpoint was involved: nothing
    // reaches breakers, outlier detection or the retry budget.
    const cause = Object.assign(new Error('connection reset by an injected fault'), { code: 'ECONNRESET' });
    call.record(no, undefined, Outcome.Reset, 0, cause, false);
    const what = `${call.opts.method} ${call.service}${call.opts.path}`;
    // Logged and counted with status 0: no response was sent.
    call.finishWithError(new InjectedResetError(what, call.errorOptions()), 0);
    return;
  }
  if (code >= 500 || call.retry?.retriesBelow500 === true) {
    const delay = call.retryDelay(code, -1);
    if (delay >= 0) {
      call.record(no, undefined, code, 0, undefined, false);
      call.scheduleRetry(undefined, delay);
      return;
    }
  }
  call.record(no, undefined, code, 0, undefined, false);
  call.extras().upstreamMs = 0;
  const body = Buffer.from(
    JSON.stringify({ error: 'fault injected', status: code, service: call.service, request_id: call.requestId }),
  );
  disarmOverall(call);
  call.finish(code, undefined);
  const handler = call.handler;
  try {
    handler.onResponseStart?.(
      call,
      code,
      {
        'content-type': 'application/json',
        'content-length': String(body.length),
        'x-weft-fault': 'abort',
        'x-request-id': call.requestId,
      },
      reasonPhrase(code),
    );
    if (!call.aborted) handler.onResponseData?.(call, body);
    if (!call.aborted) handler.onResponseEnd?.(call, {});
  } catch (err) {
    // As undici does: a handler that throws gets its error back (this runs from a timer or a
    // microtask, where a throw would be an uncaught exception).
    handler.onResponseError?.(call, err as Error);
  }
}
