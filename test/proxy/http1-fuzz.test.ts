/**
 * Property tests of the sidecar's HTTP/1.1 engine (fast-check):
 *
 * - ChunkedDecoder: a chunked body fed in random pieces (each its own buffer, at an offset) gives
 *   the same data, end and error as fed whole; generated valid bodies decode to what was encoded.
 * - Http1Server over TCP: request streams (valid and invalid; llhttp's corpus, HTTP Garden's
 *   payloads, the harness's own cases) written in pieces — at every byte boundary for a few, at
 *   random cuts for all — give the same outcome as written in one piece.
 * - Random byte mutations of valid requests never crash the process, never hang the server, and
 *   never make the engine accept (or frame differently) what node:http rejects.
 *
 * `WEFT_FUZZ_SEED` replays a seed fast-check printed; `WEFT_FUZZ_SCALE` multiplies the run counts.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChunkedDecoder } from '../../packages/proxy/src/http1/chunked.js';
import { Http1ParseError } from '../../packages/proxy/src/http1/parse.js';
import { loadGarden, loadLlhttp, withHost } from './differential/corpus.js';
import {
  comparePair,
  compareResponses,
  DEFAULT_TIMING,
  describeOutcome,
  describeResponse,
  EngineRecorder,
  escapeBytes,
  FAILING_KINDS,
  mapLimit,
  NodeRecorder,
  nodeFetch,
  type Outcome,
  poolFetch,
  RawResponder,
  type ResponseOutcome,
  run,
  sameOutcome,
  sameResponse,
} from './differential/harness.js';
import { OWN_CASES, OWN_RESPONSES } from './differential/smuggling-cases.js';

const SCALE = Number(process.env.WEFT_FUZZ_SCALE ?? '1') || 1;
const SEED = process.env.WEFT_FUZZ_SEED === undefined ? undefined : Number(process.env.WEFT_FUZZ_SEED);
const params = (numRuns: number): fc.Parameters<unknown> => ({
  numRuns: Math.max(1, Math.round(numRuns * SCALE)),
  ...(SEED === undefined ? {} : { seed: SEED }),
});
const b = (s: string): Buffer => Buffer.from(s, 'latin1');

/**
 * A fast-check property over batches of CONCURRENCY items, checked concurrently: `checkOne` gives
 * a complaint (or undefined) per item, `afterBatch` may add some of its own and say whether the
 * batch passes otherwise. Returns every complaint, and fast-check's failure (its seed and path
 * replay it), or undefined.
 */
async function batchProperty<T>(
  item: fc.Arbitrary<T>,
  numRuns: number,
  checkOne: (value: T) => Promise<string | undefined>,
  afterBatch: (results: Array<string | undefined>) => Promise<boolean> = async () => true,
): Promise<{ complaints: string[]; failure: unknown }> {
  const complaints: string[] = [];
  const failure = await fc
    .assert(
      fc.asyncProperty(fc.array(item, { minLength: CONCURRENCY, maxLength: CONCURRENCY }), async (items) => {
        const results = await mapLimit(items, CONCURRENCY, checkOne);
        const ok = await afterBatch(results);
        const bad = results.filter((r): r is string => r !== undefined);
        complaints.push(...bad);
        return bad.length === 0 && ok;
      }),
      { ...params(numRuns), endOnFailure: true },
    )
    .then(
      () => undefined,
      (err: unknown) => err,
    );
  return { complaints, failure };
}

// ---- ChunkedDecoder ---------------------------------------------------------------------------

interface Decoded {
  data: string;
  /** Index just past the body in the input, or -1 when the decoder wants more. */
  end: number;
  error: string | undefined;
  trailers: string[] | undefined;
}

/**
 * Feeds `input` to a fresh decoder in the pieces `cuts` make. Each piece is copied into a buffer
 * of its own with `pad` junk bytes on both sides, and pushed with start/end around it, so the
 * decoder's index arithmetic and its handling of views are both exercised.
 */
function decodeChunked(input: Buffer, cuts: readonly number[], pad = 0): Decoded {
  const decoder = new ChunkedDecoder(400);
  const parts: Buffer[] = [];
  const onData = (buf: Buffer, start: number, end: number): void => {
    parts.push(Buffer.from(buf.subarray(start, end)));
  };
  const bounds = [
    0,
    ...[...new Set(cuts)].filter((c) => c > 0 && c < input.length).sort((x, y) => x - y),
    input.length,
  ];
  let end = -1;
  let error: string | undefined;
  for (let i = 0; i + 1 < bounds.length; i++) {
    const from = bounds[i] as number;
    const to = bounds[i + 1] as number;
    const piece = Buffer.alloc(to - from + 2 * pad, 'Z');
    input.copy(piece, pad, from, to);
    try {
      const at = decoder.push(piece, pad, pad + (to - from), onData);
      if (at >= 0) {
        end = from + (at - pad);
        break;
      }
    } catch (err) {
      if (!(err instanceof Http1ParseError)) throw err;
      error = `${err.status} ${err.message}`;
      break;
    }
  }
  return { data: Buffer.concat(parts).toString('latin1'), end, error, trailers: decoder.trailers };
}

const TCHARS = "!#$%&'*+-.^_`|~0123456789abczABCZ".split('');
const token = fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: 6 });
const quoted = fc
  .array(
    fc.oneof(
      fc.constantFrom(' ', '\t', 'a', ';', '=', ',', '\\"', '\\\\', '\\a'),
      fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)),
    ),
    { maxLength: 5 },
  )
  .map((a) => `"${a.join('')}"`);
const extension = fc
  .tuple(token, fc.option(fc.oneof(token, quoted)))
  .map(([name, value]) => `;${name}${value === null ? '' : `=${value}`}`);
const chunkSize = (n: number, upper: boolean, zeros: number): string =>
  '0'.repeat(zeros) + (upper ? n.toString(16).toUpperCase() : n.toString(16));

/** A valid chunked body, what it encodes, and bytes that follow it (the next message). */
const validChunked = fc
  .record({
    chunks: fc.array(
      fc.record({
        data: fc.uint8Array({ minLength: 1, maxLength: 40 }),
        upper: fc.boolean(),
        zeros: fc.nat(3),
        exts: fc.array(extension, { maxLength: 2 }),
      }),
      { maxLength: 4 },
    ),
    lastZeros: fc.nat(2),
    lastExts: fc.array(extension, { maxLength: 1 }),
    trailers: fc.array(
      fc
        .tuple(token, fc.string({ unit: fc.constantFrom('a', ' ', '\t', 'x', '1', ':', '\x80'), maxLength: 6 }))
        .map(([n, v]) => `${n}:${v}`),
      { maxLength: 2 },
    ),
    after: fc.constantFrom('', 'GET / HTTP/1.1\r\n\r\n', '0\r\n\r\n', 'Z'),
  })
  .map(({ chunks, lastZeros, lastExts, trailers, after }) => {
    const out: Buffer[] = [];
    for (const c of chunks) {
      out.push(
        b(`${chunkSize(c.data.length, c.upper, c.zeros)}${c.exts.join('')}\r\n`),
        Buffer.from(c.data),
        b('\r\n'),
      );
    }
    out.push(b(`${'0'.repeat(1 + lastZeros)}${lastExts.join('')}\r\n`));
    for (const t of trailers) out.push(b(`${t}\r\n`));
    out.push(b('\r\n'));
    const body = Buffer.concat(out);
    return {
      body,
      input: Buffer.concat([body, b(after)]),
      data: Buffer.concat(chunks.map((c) => Buffer.from(c.data))).toString('latin1'),
      trailers,
    };
  });

/** Bytes that matter to a chunked parser, for mutations. */
const SPECIAL = [
  '\r',
  '\n',
  '\0',
  ' ',
  '\t',
  ';',
  '=',
  '"',
  '\\',
  ':',
  ',',
  '0',
  '5',
  'f',
  'x',
  '-',
  '+',
  '\x7f',
  '\x80',
  '\xa0',
  '\xff',
];
const special = fc.oneof(
  fc.constantFrom(...SPECIAL),
  fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)),
);

type Mutation = { op: 'replace' | 'insert' | 'delete'; at: number; text: string; len: number };
const mutation: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom('replace', 'insert', 'delete'),
  at: fc.nat(),
  text: fc.oneof(
    special,
    fc.constantFrom(
      'chunked',
      '\r\n',
      '\r\n\r\n',
      'Content-Length: 5\r\n',
      'Transfer-Encoding: chunked\r\n',
      'Connection: close\r\n',
      ', chunked',
      'HTTP/1.1',
    ),
  ),
  len: fc.integer({ min: 1, max: 4 }),
});

function mutate(input: Buffer, mutations: readonly Mutation[]): Buffer {
  let s = input.toString('latin1');
  for (const m of mutations) {
    const at = s.length === 0 ? 0 : m.at % (s.length + (m.op === 'insert' ? 1 : 0));
    if (m.op === 'insert') s = s.slice(0, at) + m.text + s.slice(at);
    else if (m.op === 'replace') s = s.slice(0, at) + m.text + s.slice(at + 1);
    else s = s.slice(0, at) + s.slice(at + m.len);
  }
  return b(s);
}

const cuts = (max: number) => fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, max) }), { maxLength: 12 });

describe('ChunkedDecoder: the same bytes in any pieces', () => {
  it('decodes generated valid bodies to what they encode, ending exactly at the body, in any pieces', () => {
    fc.assert(
      fc.property(validChunked, cuts(400), fc.nat(3), (v, cutAt, pad) => {
        const whole = decodeChunked(v.input, []);
        expect(whole).toEqual({
          data: v.data,
          end: v.body.length,
          error: undefined,
          trailers: v.trailers.length === 0 ? undefined : v.trailers,
        });
        expect(decodeChunked(v.input, cutAt, pad)).toEqual(whole);
      }),
      params(400),
    );
  });

  it('gives the same data, end and error for mutated bodies, fed whole, in random pieces and byte by byte', () => {
    fc.assert(
      fc.property(
        validChunked,
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        cuts(400),
        fc.nat(3),
        (v, ms, cutAt, pad) => {
          const input = mutate(v.input, ms);
          const whole = decodeChunked(input, []);
          expect(decodeChunked(input, cutAt, pad)).toEqual(whole);
          const everyByte = Array.from({ length: input.length }, (_, i) => i);
          expect(decodeChunked(input, everyByte, 1)).toEqual(whole);
        },
      ),
      params(600),
    );
  });

  it('gives the same result at every single split point of fixed valid and invalid bodies', () => {
    const bodies = [
      '5;a=b;c="d\\"e"\r\nhello\r\n0\r\nX-T: v\r\n\r\nNEXT',
      '000A\r\n0123456789\r\n0;x\r\n\r\n',
      '5 garbage\r\nhello\r\n0\r\n\r\n',
      '5;a="b\r\nhello\r\n0\r\n\r\n',
      '5\rhello\r\n0\r\n\r\n',
      '5\r\nhelloXX0\r\n\r\n',
      '0\r\nX-T : v\r\n\r\n',
      `5;a=${'b'.repeat(4100)}\r\nhello\r\n0\r\n\r\n`,
    ];
    for (const text of bodies) {
      const input = b(text);
      const whole = decodeChunked(input, []);
      for (let at = 1; at < input.length; at++)
        expect(decodeChunked(input, [at], 2), `split at ${at} of ${JSON.stringify(text.slice(0, 40))}`).toEqual(whole);
    }
  });
});

// ---- Http1Server over TCP ---------------------------------------------------------------------

/** Pieces of `bytes` at `cutAt` (sorted, deduplicated, within range). */
function split(bytes: Buffer, cutAt: readonly number[]): Buffer[] {
  const bounds = [
    0,
    ...[...new Set(cutAt)].filter((c) => c > 0 && c < bytes.length).sort((x, y) => x - y),
    bytes.length,
  ];
  const out: Buffer[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) out.push(bytes.subarray(bounds[i] as number, bounds[i + 1] as number));
  return out;
}

const HEALTH = b('GET /health HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n');
const CONCURRENCY = 16;

describe('Http1Server: the same request stream in any pieces gives the same outcome', () => {
  let engine: EngineRecorder;
  const streams: Array<{ name: string; bytes: Buffer }> = [
    ...OWN_CASES.map((c) => ({ name: c.name, bytes: c.bytes })),
    ...loadLlhttp()
      .cases.filter((c) => c.kind === 'request')
      .map((c) => ({ name: c.name, bytes: withHost(c.bytes) ?? c.bytes })),
    ...(loadGarden()?.cases ?? []).map((c) => ({ name: c.name, bytes: c.bytes })),
  ].filter((s) => s.bytes.length <= 2048);
  /** The engine's outcome for each stream written in one piece. */
  const whole = new Map<string, Outcome>();
  const wholeOf = async (s: { name: string; bytes: Buffer }): Promise<Outcome> => {
    let o = whole.get(s.name);
    if (o === undefined) {
      o = await run(engine, [s.bytes]);
      whole.set(s.name, o);
    }
    return o;
  };
  /** Runs `pieces`, and again with more patience if the outcome differs from `expected`; the complaint, if any. */
  const check = async (
    name: string,
    bytes: Buffer,
    pieces: Buffer[],
    expected: Outcome,
  ): Promise<string | undefined> => {
    let o = await run(engine, pieces);
    if (sameOutcome(expected, o)) return undefined;
    o = await run(engine, pieces, { ...DEFAULT_TIMING, idleMs: 600 });
    if (sameOutcome(expected, o)) return undefined;
    return `${name}: pieces ${pieces.map((p) => p.length).join('+')} of ${escapeBytes(bytes, 160)}\n  whole:  ${describeOutcome(expected)}\n  pieces: ${describeOutcome(o)}`;
  };

  beforeAll(async () => {
    engine = await new EngineRecorder().listen();
  });
  afterAll(async () => {
    await engine?.close();
  });

  it('at every byte boundary, for pipelined valid and invalid streams', { timeout: 60_000 }, async () => {
    const fixed = [
      b(
        'POST /a HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: chunked\r\n\r\n5;e=1\r\nhello\r\n0\r\nX-T: v\r\n\r\n' +
          'POST /b HTTP/1.1\r\nHost: svc\r\nContent-Length: 3\r\n\r\nabcGET /c HTTP/1.1\r\nHost: svc\r\n\r\n',
      ),
      b(
        'POST /a HTTP/1.1\r\nHost: svc\r\nContent-Length: 2\r\n\r\nokPOST /b HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\nhello\r\n0\r\n\r\n',
      ),
      b('GET /a HTTP/1.1\r\nHost: svc\r\n\r\nGET /b HTTP/1.1\r\nHost: svc\nX: y\r\n\r\n'),
      // Whether the connection stays open after an Expect: 100-continue request must not depend
      // on whether its body came in the head's read.
      b(
        'POST /a HTTP/1.1\r\nHost: svc\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhelloGET /b HTTP/1.1\r\nHost: svc\r\n\r\n',
      ),
    ];
    const complaints: string[] = [];
    for (const bytes of fixed) {
      const expected = await run(engine, [bytes]);
      const results = await mapLimit(
        Array.from({ length: bytes.length - 1 }, (_, i) => i + 1),
        CONCURRENCY,
        (at) => check('every split', bytes, split(bytes, [at]), expected),
      );
      complaints.push(...results.filter((r): r is string => r !== undefined));
      // And one byte per write.
      const bytewise = await check(
        'byte by byte',
        bytes,
        split(
          bytes,
          Array.from({ length: bytes.length }, (_, i) => i),
        ),
        expected,
      );
      if (bytewise !== undefined) complaints.push(bytewise);
    }
    expect(complaints).toEqual([]);
  });

  it('at random cuts, for every corpus and own stream', { timeout: 60_000 }, async () => {
    expect(streams.length).toBeGreaterThan(200);
    const { complaints, failure } = await batchProperty(
      fc.record({ stream: fc.nat(streams.length - 1), cutAt: cuts(2048) }),
      12,
      async ({ stream, cutAt }) => {
        const s = streams[stream] as { name: string; bytes: Buffer };
        const pieces = split(
          s.bytes,
          cutAt.map((c) => c % s.bytes.length),
        );
        return check(s.name, s.bytes, pieces, await wholeOf(s));
      },
    );
    // The complaints say what went wrong; fast-check's error has the seed and path to replay it.
    expect(complaints, String(failure)).toEqual([]);
    if (failure !== undefined) throw failure;
  });
});

describe('Http1Server against node:http: mutated valid requests', () => {
  let node: NodeRecorder;
  let engine: EngineRecorder;
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown): void => {
    uncaught.push(err);
  };
  /** Valid request streams: corpus requests both servers accept, and a few of the harness's own. */
  const templates: Buffer[] = [
    b('GET /x HTTP/1.1\r\nHost: svc\r\n\r\n'),
    b('POST /x HTTP/1.1\r\nHost: svc\r\nContent-Length: 5\r\n\r\nhelloGET /y HTTP/1.1\r\nHost: svc\r\n\r\n'),
    b(
      'POST /x HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\nX-T: v\r\n\r\nGET /y HTTP/1.1\r\nHost: svc\r\n\r\n',
    ),
    b('GET /x HTTP/1.0\r\nHost: svc\r\nConnection: keep-alive\r\n\r\nGET /y HTTP/1.0\r\nHost: svc\r\n\r\n'),
    b('PUT /x?q=1 HTTP/1.1\r\nHost: svc\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc'),
    ...loadLlhttp()
      .cases.filter((c) => c.kind === 'request' && c.verdict === 'accepts' && c.bytes.length < 1024)
      .map((c) => withHost(c.bytes) ?? c.bytes),
  ];

  beforeAll(async () => {
    [node, engine] = await Promise.all([new NodeRecorder().listen(), new EngineRecorder().listen()]);
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onUncaught);
  });
  afterAll(async () => {
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUncaught);
    await Promise.all([node?.close(), engine?.close()]);
  });

  it('never crash, never hang the server, never accept what node rejects', { timeout: 60_000 }, async () => {
    const { complaints, failure } = await batchProperty(
      fc.record({
        template: fc.nat(templates.length - 1),
        mutations: fc.array(mutation, { minLength: 1, maxLength: 3 }),
      }),
      12,
      async ({ template, mutations }) => {
        const bytes = mutate(templates[template] as Buffer, mutations);
        const [n, o, cmp] = await comparePair(node, engine, [bytes]);
        if (!FAILING_KINDS.has(cmp.kind)) return undefined;
        return `${cmp.kind}${cmp.kind === 'differs' ? ` in ${cmp.field}` : ''}: ${escapeBytes(bytes, 300)}\n  node: ${describeOutcome(n)}\n  ours: ${describeOutcome(o)}`;
      },
      async (results) => {
        // The server still answers a plain request on a fresh connection.
        const health = await run(engine, [HEALTH], { ...DEFAULT_TIMING, idleMs: 1000 });
        if (health.statuses[0] !== 200) results.push(`the server stopped answering: ${describeOutcome(health)}`);
        return uncaught.length === 0;
      },
    );
    expect(uncaught, String(failure)).toEqual([]);
    expect(complaints, String(failure)).toEqual([]);
    if (failure !== undefined) throw failure;
  });
});

// ---- Http1Pool over TCP -----------------------------------------------------------------------

describe("Http1Pool: responses in any pieces, and mutated responses against node's client", () => {
  let raw: RawResponder;
  const responses: Buffer[] = [
    ...loadLlhttp()
      .cases.filter((c) => c.kind === 'response')
      .map((c) => c.bytes),
    ...OWN_RESPONSES.map((c) => c.bytes),
  ];
  /** The pool's outcome for each response written in one piece. */
  const whole = new Map<number, ResponseOutcome>();

  beforeAll(async () => {
    raw = await new RawResponder().listen();
  });
  afterAll(async () => {
    await raw?.close();
  });

  it('a response written in two pieces, at every byte boundary, reads as written whole', {
    timeout: 60_000,
  }, async () => {
    const fixed = [
      b(
        'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a="b"\r\nhello\r\n0\r\nX-T: v\r\n\r\n',
      ),
      b('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello'),
      b('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\nhello\r\n0\r\n\r\n'),
      // Whether bytes after a `Connection: close` response fail it must not depend on whether they
      // arrive in the same read as its end.
      b('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhelloEXTRA'),
    ];
    const complaints: string[] = [];
    for (const bytes of fixed) {
      const expected = await poolFetch(raw.port, raw.register(bytes));
      const results = await mapLimit(
        Array.from({ length: bytes.length - 1 }, (_, i) => i + 1),
        CONCURRENCY,
        async (at) => {
          const got = await poolFetch(raw.port, raw.register(split(bytes, [at])));
          if (sameResponse(expected, got)) return undefined;
          return `split at ${at} of ${escapeBytes(bytes, 200)}\n  whole:  ${describeResponse(expected)}\n  pieces: ${describeResponse(got)}`;
        },
      );
      complaints.push(...results.filter((r): r is string => r !== undefined));
    }
    expect(complaints).toEqual([]);
  });

  it('a response written in random pieces reads as written whole', { timeout: 60_000 }, async () => {
    const { complaints, failure } = await batchProperty(
      fc.record({ response: fc.nat(responses.length - 1), cutAt: cuts(1024) }),
      10,
      async ({ response, cutAt }) => {
        const bytes = responses[response] as Buffer;
        let expected = whole.get(response);
        if (expected === undefined) {
          expected = await poolFetch(raw.port, raw.register(bytes));
          whole.set(response, expected);
        }
        const pieces = split(
          bytes,
          cutAt.map((c) => c % bytes.length),
        );
        const got = await poolFetch(raw.port, raw.register(pieces));
        if (sameResponse(expected, got)) return undefined;
        return `pieces ${pieces.map((p) => p.length).join('+')} of ${escapeBytes(bytes, 200)}\n  whole:  ${describeResponse(expected)}\n  pieces: ${describeResponse(got)}`;
      },
    );
    expect(complaints, String(failure)).toEqual([]);
    if (failure !== undefined) throw failure;
  });

  it("a mutated response is never accepted (or read differently) where node's client rejects it", {
    timeout: 60_000,
  }, async () => {
    const valid = responses.filter((r) => !r.includes('\x00'));
    const { complaints, failure } = await batchProperty(
      fc.record({
        response: fc.nat(valid.length - 1),
        mutations: fc.array(mutation, { minLength: 1, maxLength: 3 }),
      }),
      8,
      async ({ response, mutations }) => {
        const bytes = mutate(valid[response] as Buffer, mutations);
        const [n, o] = await Promise.all([
          nodeFetch(raw.port, raw.register(bytes)),
          poolFetch(raw.port, raw.register(bytes)),
        ]);
        const cmp = compareResponses(n, o);
        if (cmp.kind === 'same' || cmp.kind === 'stricter') return undefined;
        return `${cmp.kind}: ${escapeBytes(bytes, 300)}\n  node: ${describeResponse(n)}\n  ours: ${describeResponse(o)}`;
      },
    );
    expect(complaints, String(failure)).toEqual([]);
    if (failure !== undefined) throw failure;
  });
});
