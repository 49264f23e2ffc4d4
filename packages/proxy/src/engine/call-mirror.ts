import type { Dispatcher } from 'undici';
import type { BodySource } from './body.js';
import type { CallExtras } from './call-extras.js';
import type { EngineContext } from './engine-context.js';
import { sendMirror } from './mirror.js';
import type { RoutePlan } from './route.js';
import type { ServiceTable } from './service-table.js';

/**
 * What a call's mirroring needs of it (`MeshCall`; an interface, so no import circle). When a
 * call's request is mirrored is decided here; the mirror itself is {@link sendMirror}'s.
 */
export interface MirroredCall {
  readonly engine: EngineContext;
  readonly table: ServiceTable;
  readonly opts: Dispatcher.DispatchOptions;
  readonly requestId: string;
  readonly plan: RoutePlan;
  /** The options the attempts send. */
  readonly sendOpts: Dispatcher.DispatchOptions;
  readonly body: BodySource | undefined;
  readonly finished: boolean;
  extras(): CallExtras;
}

/**
 * Mirrors the request (after the primary attempt was launched). A body that is at hand
 * (string, buffer, blob) goes at once; a streamed body only once the primary attempt has sent
 * it in full within the replay buffer, from the recording; otherwise the mirror is skipped.
 */
export function startMirror(call: MirroredCall, tags: readonly string[]): void {
  if (call.opts.upgrade != null || call.opts.method === 'CONNECT') {
    call.extras().mirrorTags = tags;
    skipMirror(call); // a tunnel cannot be copied
    return;
  }
  const body = call.body;
  if (body?.streamed) {
    call.extras().mirrorTags = tags;
    // The call already failed without sending the body: nothing was recorded to mirror.
    if (call.finished) skipMirror(call);
    return;
  }
  send(call, tags, body?.buffered());
}

/**
 * An attempt sent the whole request and a mirror waits for the streamed body (the call checks
 * `mirrorTags` first): it goes now, from the recording, or is skipped when the body outgrew it.
 */
export function mirrorSentBody(call: MirroredCall): void {
  const x = call.extras();
  const tags = x.mirrorTags;
  if (tags === undefined) return;
  x.mirrorTags = undefined;
  const body = call.body?.buffered();
  if (body === undefined) skipMirror(call);
  else send(call, tags, body);
}

/** Gives up a mirror (a tunnel, a body not recorded, or the call ended before it was sent); counted. */
export function skipMirror(call: MirroredCall): void {
  call.extras().mirrorTags = undefined;
  const c = call.table.counters;
  if (c !== undefined) c.mirrorsSkipped++;
}

function send(call: MirroredCall, tags: readonly string[], body: Dispatcher.DispatchOptions['body'] | undefined): void {
  try {
    sendMirror(call.engine, {
      table: call.table,
      tags,
      opts: call.sendOpts,
      body,
      requestId: call.requestId,
      timeoutMs: call.plan.timeoutMs,
    });
  } catch {
    // Mirroring must never affect the primary call.
  }
}
