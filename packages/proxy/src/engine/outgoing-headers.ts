import type { Dispatcher } from 'undici';
import { getHeader, rebuildHeaders } from './headers.js';
import type { CallInit } from './options.js';

type DispatchHeaders = Dispatcher.DispatchOptions['headers'];

const NO_EXTRA: readonly string[] = Object.freeze([]);
/** Dropped from the caller's headers when upstreams get the endpoint's address as Host. */
const DROP_HOST: ReadonlySet<string> = new Set(['host']);

/** {@link planOutgoingHeaders}' answer when the caller's headers go upstream as given. */
export const AS_GIVEN: unique symbol = Symbol('as given');

/** The value of `lowerName` in a flat `[lowerName, value, …]` list. */
export function flatHeader(flat: readonly string[], lowerName: string): string | undefined {
  for (let i = 0; i + 1 < flat.length; i += 2) if (flat[i] === lowerName) return flat[i + 1];
  return undefined;
}

/**
 * The headers every attempt of a call sends: the caller's, plus, in this order, the generated
 * request id, the Host (the caller's, else the authority; none with `hostIsEndpoint`), the
 * client span's traceparent, the sidecar's `extraHeaders`, and the headers inherited from the
 * incoming request that the call does not set itself (the inherited trace state goes only with
 * the inherited trace). Hop-by-hop names in `dropHeaders` are left out.
 *
 * Positional on purpose: it runs once per call, and both an options object per call (~70 B of
 * garbage, V8 does not elide it here) and one shared, refilled object measured slower.
 *
 * @param callerHeaders - the caller's headers (undici's dispatch `headers`).
 * @param addRequestId - a request id the engine generated, to add; undefined when the request has one.
 * @param authority - the Host to send when the caller set none (MeshAgent: the origin's host).
 * @param hostIsEndpoint - `hostHeader: 'endpoint'`: no Host at all, the pool writes the endpoint's address.
 * @param traceparent - the call's client span: replaces the caller's and the inherited traceparent.
 * @param inheritedTrace - the inherited trace context is the call's (no traceparent of its own, no closer span).
 * @param init - the sidecar's per-call headers: `extraHeaders`, `inherited`, `dropHeaders`.
 * @returns the headers to send (a flat list when only ours are added), or {@link AS_GIVEN}.
 */
export function planOutgoingHeaders(
  callerHeaders: DispatchHeaders,
  addRequestId: string | undefined,
  authority: string | undefined,
  hostIsEndpoint: boolean,
  traceparent: string | undefined,
  inheritedTrace: boolean,
  init: CallInit | undefined,
): DispatchHeaders | typeof AS_GIVEN {
  const inherited = init?.inherited;
  // The sidecar drops its client's Host and passes the one to send in `extraHeaders`.
  let dropHost = false;
  let addHost = false;
  if (authority !== undefined) {
    const inheritedHost = inherited !== undefined && flatHeader(inherited, 'host') !== undefined;
    const own = inheritedHost || getHeader(callerHeaders, 'host') !== undefined;
    if (hostIsEndpoint) dropHost = own;
    else addHost = !own;
  }
  // One literal for the common pair (MeshAgent: request id and Host): an array grown by push
  // reallocates its backing store, ~280 B more garbage per call.
  let extra: string[] | undefined;
  if (addRequestId !== undefined)
    extra = addHost ? ['x-request-id', addRequestId, 'host', authority as string] : ['x-request-id', addRequestId];
  else if (addHost) extra = ['host', authority as string];
  if (traceparent !== undefined) {
    if (extra === undefined) extra = ['traceparent', traceparent];
    else extra.push('traceparent', traceparent);
  }
  // The sidecar's own list (a new one per request) is read, never copied, when nothing joins it.
  let extraIsInit = false;
  if (init?.extraHeaders !== undefined) {
    if (extra === undefined) {
      extra = init.extraHeaders as string[];
      extraIsInit = true;
    } else extra.push(...init.extraHeaders);
  }
  if (inherited !== undefined) {
    if (extra === undefined) extra = [];
    else if (extraIsInit) extra = [...extra];
    for (let i = 0; i + 1 < inherited.length; i += 2) {
      const name = inherited[i] as string;
      // The client span's traceparent replaces the inherited one.
      if (name === 'traceparent' && (traceparent !== undefined || !inheritedTrace)) continue;
      if (name === 'tracestate' && !inheritedTrace) continue;
      if (dropHost && name === 'host') continue;
      extra.push(name, inherited[i + 1] as string);
    }
  }
  const drop = init?.dropHeaders ?? (dropHost ? DROP_HOST : undefined);
  if (traceparent !== undefined) {
    // The new traceparent replaces the caller's.
    const d = new Set(drop ?? []);
    d.add('traceparent');
    return rebuildHeaders(callerHeaders, d, extra ?? NO_EXTRA);
  }
  // Common case: no caller headers, only ours.
  if (extra !== undefined && drop === undefined && callerHeaders == null) return extra;
  if (extra !== undefined || drop !== undefined) return rebuildHeaders(callerHeaders, drop, extra ?? NO_EXTRA);
  return AS_GIVEN;
}
