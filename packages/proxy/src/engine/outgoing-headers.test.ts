import type { Dispatcher } from 'undici';
import { describe, expect, it } from 'vitest';
import type { CallInit } from './options.js';
import { AS_GIVEN, planOutgoingHeaders } from './outgoing-headers.js';

/** The planner's inputs by name, for readable cases. */
interface OutgoingHeaderInput {
  readonly headers: Dispatcher.DispatchOptions['headers'];
  readonly addRequestId: string | undefined;
  readonly authority: string | undefined;
  readonly hostIsEndpoint: boolean;
  readonly traceparent: string | undefined;
  readonly inheritedTrace: boolean;
  readonly init: CallInit | undefined;
}

const none: OutgoingHeaderInput = {
  headers: null,
  addRequestId: undefined,
  authority: undefined,
  hostIsEndpoint: false,
  traceparent: undefined,
  inheritedTrace: false,
  init: undefined,
};
const TP = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

/** The planned headers as `name: value` lines, whatever shape they came in. */
function lines(input: Partial<OutgoingHeaderInput>): string[] | typeof AS_GIVEN {
  const i = { ...none, ...input };
  const h = planOutgoingHeaders(
    i.headers,
    i.addRequestId,
    i.authority,
    i.hostIsEndpoint,
    i.traceparent,
    i.inheritedTrace,
    i.init,
  );
  if (h === AS_GIVEN) return h;
  const out: string[] = [];
  if (Array.isArray(h)) for (let i = 0; i + 1 < h.length; i += 2) out.push(`${h[i]}: ${h[i + 1]}`);
  else for (const [k, v] of Object.entries(h as Record<string, string>)) out.push(`${k.toLowerCase()}: ${v}`);
  return out;
}

describe('planOutgoingHeaders', () => {
  const cases: Array<[string, Partial<OutgoingHeaderInput>, string[] | typeof AS_GIVEN]> = [
    ['nothing to add: as given', { headers: { accept: 'x' } }, AS_GIVEN],
    ['a generated request id alone', { addRequestId: 'r1' }, ['x-request-id: r1']],
    ['the authority as Host when the caller set none', { authority: 'reviews' }, ['host: reviews']],
    ['the caller’s Host wins over the authority', { headers: { host: 'mine' }, authority: 'reviews' }, AS_GIVEN],
    [
      'hostHeader endpoint: the caller’s Host is dropped',
      { headers: { host: 'mine', a: '1' }, authority: 'reviews', hostIsEndpoint: true },
      ['a: 1'],
    ],
    [
      'the client span’s traceparent replaces the caller’s',
      { headers: { traceparent: 'old' }, traceparent: TP },
      [`traceparent: ${TP}`],
    ],
    [
      'the sidecar’s extra headers, in order after ours',
      { addRequestId: 'r1', init: { extraHeaders: ['x-forwarded-for', '10.0.0.1'] } },
      ['x-request-id: r1', 'x-forwarded-for: 10.0.0.1'],
    ],
    [
      'hop-by-hop headers dropped',
      { headers: { connection: 'close', a: '1' }, init: { dropHeaders: new Set(['connection']) } },
      ['a: 1'],
    ],
    [
      'inherited headers go, with the inherited trace',
      { init: { inherited: ['x-user', 'jason', 'traceparent', 'in', 'tracestate', 's'] }, inheritedTrace: true },
      ['x-user: jason', 'traceparent: in', 'tracestate: s'],
    ],
    [
      'an inherited trace that is not the call’s stays behind',
      { init: { inherited: ['x-user', 'jason', 'traceparent', 'in', 'tracestate', 's'] } },
      ['x-user: jason'],
    ],
    [
      'a new span replaces the inherited traceparent',
      { init: { inherited: ['traceparent', 'in'] }, inheritedTrace: true, traceparent: TP },
      [`traceparent: ${TP}`],
    ],
  ];
  it.each(cases)('%s', (_name, input, expected) => {
    expect(lines(input)).toEqual(expected);
  });
});
