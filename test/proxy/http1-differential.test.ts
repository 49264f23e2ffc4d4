/**
 * Differential test of the sidecar's HTTP/1.1 engine against node:http (llhttp in strict mode):
 * llhttp's own request/response test corpus, HTTP Garden's payloads and the harness's own
 * smuggling cases go over loopback TCP to both; the engine must never accept a request (or
 * response) llhttp rejects, never frame one differently, and never deliver a different request.
 * Being stricter is allowed, and listed. See test/proxy/differential/harness.ts for the outcome
 * model and test/corpora/README.md for the corpora.
 *
 * `WEFT_DIFF_REPORT=/path/report.md` writes every divergence (failures, allowed ones, stricter
 * ones) as a markdown report.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGarden, loadLlhttp, withHost } from './differential/corpus.js';
import {
  type Comparison,
  compare,
  comparePair,
  compareResponses,
  type Delivered,
  describeOutcome,
  describeResponse,
  EngineRecorder,
  escapeBytes,
  FAILING_KINDS,
  mapLimit,
  NodeRecorder,
  nodeFetch,
  type Outcome,
  outcomeOf,
  poolFetch,
  RawResponder,
  type RequestTarget,
  type ResponseComparison,
  responseStatuses,
  SidecarRecorder,
  splitTarget,
} from './differential/harness.js';
import {
  ALLOWED_TYPES,
  decodeInput,
  decodeLlhttpFile,
  decodeLog,
  parseMd,
  SKIPPED_TYPES,
} from './differential/llhttp-md.js';
import { OWN_CASES, OWN_RESPONSES, SIDECAR_SERVICES } from './differential/smuggling-cases.js';

/**
 * Deliberate divergences: the comparison kinds tolerated for a case, and why. Keep it small; every
 * entry is reported to the lead, and an entry no case needs any more is reported as stale.
 * Keyed by case name (as printed in the failure list). Empty: the engine follows llhttp's strict
 * mode wherever it accepts (it took any token as a method, and read on after an upgrade request
 * that got no 101, until both were changed to llhttp's behaviour).
 */
const ALLOWED: Readonly<Record<string, { kinds: ReadonlyArray<Comparison['kind']>; reason: string }>> = {};
const allowUsed = new Set<string>();

/** Cases run at once (each opens one connection to each server). */
const CONCURRENCY = 12;

interface Row {
  suite: string;
  name: string;
  bytes: Buffer;
  node: string;
  ours: string;
  kind: string;
  note?: string;
}

const failures: Row[] = [];
const allowed: Row[] = [];
const stricter: Row[] = [];
const info: Row[] = [];
const timings: Record<string, number> = {};

interface RequestCase {
  name: string;
  bytes: Buffer;
  /** What llhttp's log says (corpus cases only). */
  llhttp?: string;
}

/** Runs `cases` against node and `ours`, sorts the results into the report lists; returns the failing rows. */
async function differential(
  suite: string,
  cases: readonly RequestCase[],
  node: RequestTarget,
  ours: RequestTarget,
  options: { localAddress?: boolean; authority?: boolean } = {},
): Promise<{ rows: Row[]; outcomes: Map<string, [Outcome, Outcome]> }> {
  const started = performance.now();
  const outcomes = new Map<string, [Outcome, Outcome]>();
  const rows: Row[] = [];
  await mapLimit(cases, CONCURRENCY, async (c) => {
    const [n, o, cmp] = await comparePair(node, ours, [c.bytes], options);
    outcomes.set(c.name, [n, o]);
    if (cmp.kind === 'same') return;
    const row: Row = {
      suite,
      name: c.name,
      bytes: c.bytes,
      node: describeOutcome(n),
      ours: describeOutcome(o),
      kind: cmp.kind === 'differs' ? `differs in ${cmp.field} of request ${cmp.index + 1}` : cmp.kind,
      ...(c.llhttp === undefined ? {} : { note: `llhttp log: ${c.llhttp}` }),
    };
    const allow = ALLOWED[c.name];
    if (FAILING_KINDS.has(cmp.kind)) {
      if (allow?.kinds.includes(cmp.kind)) {
        allowUsed.add(c.name);
        allowed.push({ ...row, note: allow.reason });
      } else {
        failures.push(row);
        rows.push(row);
      }
    } else if (cmp.kind === 'stricter' || cmp.kind === 'ends-where-node-waits') stricter.push(row);
    else info.push(row);
  });
  timings[suite] = Math.round(performance.now() - started);
  return { rows, outcomes };
}

const failureText = (rows: readonly Row[]): string[] =>
  rows.map(
    (r) => `${r.name}: ${r.kind}\n  bytes: ${escapeBytes(r.bytes, 200)}\n  node:  ${r.node}\n  ours:  ${r.ours}`,
  );

describe('llhttp markdown decoder (as llhttp test/md-test.ts)', () => {
  it('reads headings, fences and meta comments as mdgator does', () => {
    const md = [
      'Title',
      '=====',
      '',
      '## Group',
      '',
      '### A test',
      '',
      '<!-- meta={"type": "request"} -->',
      '```http',
      'GET / HTTP/1.1',
      '',
      '',
      '```',
      '',
      '```log',
      'off=0 message begin',
      '```',
      '',
      '## Top-level test ##',
      '<!-- meta={"type": "response"} -->',
      '```http ',
      'not http: the info string is "http " (markdown-it keeps it untrimmed)',
      '```',
      '```http',
      'HTTP/1.1 200 OK',
      '',
      '',
      '```',
      '',
    ].join('\n');
    const [title] = parseMd(md);
    expect(title?.name).toBe('Title');
    expect(title?.children.map((g) => g.name)).toEqual(['Group']);
    const test = title?.children[0]?.tests[0];
    expect(test?.name).toBe('A test');
    expect(test?.line).toBe(5);
    expect(test?.meta.get('http')).toEqual([{ type: 'request' }]);
    expect(test?.values.get('http')).toEqual(['GET / HTTP/1.1\n\n\n']);
    const top = title?.tests[0];
    expect(top?.name).toBe('Top-level test');
    // The meta comment belongs to the first fence after it, whatever its info string.
    expect(top?.meta.get('http ')).toEqual([{ type: 'response' }]);
    expect(top?.meta.get('http')).toBeUndefined();
  });

  it('decodes inputs with md-test transforms: CRLF line ends, escapes, backslash-newline, UTF-8', () => {
    expect(decodeInput('GET / HTTP/1.1\nHost: a\n\n\n')).toBe('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    // A trailing backslash joins lines; escapes are applied after line ends are normalised.
    expect(decodeInput('a: b\\\nc\\r\\n\nd\\t\\f\\x41\\101\n')).toBe('a: bc\r\n\r\nd\t\fAA');
    // \xHH takes every hex digit that follows (md-test's regex is /\\x([0-9a-fA-F]+)/).
    expect(decodeInput('\\x4142\n')).toBe(String.fromCharCode(0x4142));
    // md-test evaluates `${…}` as JavaScript.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the placeholder is the input.
    expect(decodeInput('${"ab".repeat(2)}\n')).toBe('abab');
    // The last line has no line end.
    expect(decodeInput('x\ny\n')).toBe('x\r\ny');
    const log = decodeLog('off=0 a\\tb\n/^off=\\d+ x$/\n');
    expect(log).toEqual(['off=0 a\tb', /^off=\d+ x$/]);
    // argv is UTF-8: \xff reaches llhttp as C3 BF (the corpus's own log counts 8 bytes for "ÿValue2").
    const { cases } = decodeLlhttpFile(
      'request/x.md',
      '# T\n## X\n<!-- meta={"type": "request"} -->\n```http\nA: \\xff\n```\n```log\noff=0 error code=10 reason="bad"\n```\n',
    );
    expect(cases[0]?.bytes.toString('hex')).toBe('413a20c3bf');
    expect(cases[0]?.verdict).toBe('rejects');
    expect(cases[0]?.error).toEqual({ code: 10, reason: 'bad' });
  });

  it('decodes the whole vendored corpus, skipping only the EOF-finish types (with reasons)', () => {
    const { cases, skipped } = loadLlhttp();
    const byType: Record<string, number> = {};
    for (const c of cases) byType[c.type] = (byType[c.type] ?? 0) + 1;
    console.log(`llhttp corpus: ${cases.length} cases by type`, byType);
    console.log(
      'skipped:',
      skipped.map((s) => `${s.name} [${s.type}]: ${s.reason}`),
    );
    expect(cases.length).toBeGreaterThan(200);
    for (const s of skipped) expect(Object.keys(SKIPPED_TYPES)).toContain(s.type);
    for (const c of cases) expect(ALLOWED_TYPES).toContain(c.type);
    // Every corpus case names its verdict; the lenient ones are the strict-mode rejections.
    expect(
      cases.filter((c) => c.type.includes('-lenient-')).every((c) => c.verdict === 'rejects-without-lenient-flag'),
    ).toBe(true);
  });
});

describe('differential harness: the comparison itself', () => {
  const req = (method: string, target: string, body = '', complete = true): Delivered => ({
    method,
    rawTarget: target,
    target,
    authority: 'svc',
    headers: [],
    body: Buffer.from(body),
    complete,
  });
  const outcome = (delivered: Delivered[], statuses: number[], closed: boolean): Outcome =>
    outcomeOf('x', { statuses, closed, local: '', raw: Buffer.alloc(0) }, delivered);

  it('fails on accepting more, framing differently, or waiting where node saw a request; allows stricter', () => {
    const a = req('POST', '/a', 'hello');
    const b = req('GET', '/b');
    expect(compare(outcome([a], [200, 400], true), outcome([a, b], [200, 200], false)).kind).toBe('accepts-more');
    expect(compare(outcome([], [400], true), outcome([a], [200], false)).kind).toBe('accepts-more');
    // A request whose body did not complete is not accepted.
    expect(compare(outcome([], [400], true), outcome([req('POST', '/a', 'he', false)], [400], true)).kind).toBe('same');
    expect(compare(outcome([a], [200], false), outcome([req('POST', '/a', 'hell')], [200], false))).toMatchObject({
      kind: 'differs',
      field: 'body',
    });
    expect(compare(outcome([a, b], [200, 200], false), outcome([a], [200], false)).kind).toBe(
      'fewer-without-rejection',
    );
    expect(compare(outcome([a, b], [200, 200], false), outcome([a], [200, 400], true)).kind).toBe('stricter');
    expect(compare(outcome([a], [200], false), outcome([a], [200, 400], true)).kind).toBe('ends-where-node-waits');
    expect(compare(outcome([a], [200, 400], true), outcome([a], [200], false)).kind).toBe('waits-where-node-ends');
  });

  it('reads response statuses off a stream, skipping 1xx and bodies; reduces absolute-form targets', () => {
    const stream = Buffer.from(
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nHTTP/1.1 500' +
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n' +
        'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n',
      'latin1',
    );
    expect(responseStatuses(stream)).toEqual([200, 200, 400]);
    expect(splitTarget('http://a/x?q')).toEqual(['/x?q', 'a']);
    expect(splitTarget('http://a:8080?q')).toEqual(['/?q', 'a:8080']);
    expect(splitTarget('/x')).toEqual(['/x', undefined]);
  });
});

describe('HTTP/1.1 differential: requests (node:http strict vs the engine)', () => {
  let node: NodeRecorder;
  let engine: EngineRecorder;
  let sidecar: SidecarRecorder;
  const { cases: llhttpCases } = loadLlhttp();
  const requestCases: RequestCase[] = llhttpCases
    .filter((c) => c.kind === 'request')
    .map((c) => ({
      name: `llhttp ${c.name} [${c.type}]`,
      bytes: c.bytes,
      llhttp:
        c.verdict === 'rejects'
          ? `rejects (error ${c.error?.code} ${c.error?.reason})`
          : c.verdict === 'accepts'
            ? `accepts (${c.messages} message${c.messages === 1 ? '' : 's'})`
            : c.verdict,
    }));

  beforeAll(async () => {
    [node, engine, sidecar] = await Promise.all([
      new NodeRecorder().listen(),
      new EngineRecorder().listen(),
      new SidecarRecorder(SIDECAR_SERVICES).listen(),
    ]);
  });

  afterAll(async () => {
    await Promise.all([node?.close(), engine?.close(), sidecar?.close()]);
  });

  it('llhttp request corpus: the engine accepts nothing more, and frames the same requests', async () => {
    const { rows } = await differential('llhttp requests', requestCases, node, engine);
    expect(failureText(rows)).toEqual([]);
  });

  const hostCases: RequestCase[] = [];
  for (const c of requestCases) {
    const bytes = withHost(c.bytes);
    if (bytes !== undefined) hostCases.push({ ...c, name: `${c.name} +Host`, bytes });
  }

  it('llhttp request corpus with a Host header added where it has none', async () => {
    expect(hostCases.length).toBeGreaterThan(50);
    const { rows } = await differential('llhttp requests +Host', hostCases, node, engine);
    expect(failureText(rows)).toEqual([]);
  });

  it('HTTP Garden payloads', async (ctx) => {
    const garden = loadGarden();
    if (garden === undefined) {
      console.warn('HTTP Garden TROPHIES.md not found (test/corpora/http-garden or ../shared/corpora/http-garden)');
      ctx.skip();
      return;
    }
    expect(garden.cases.length).toBeGreaterThan(50);
    const { rows } = await differential('HTTP Garden', garden.cases, node, engine);
    expect(failureText(rows)).toEqual([]);
  });

  it('own smuggling cases: required rejections, case checks, and the comparison with node', async () => {
    const { rows, outcomes } = await differential('own cases', OWN_CASES, node, engine);
    const complaints = failureText(rows);
    for (const c of OWN_CASES) {
      const ours = (outcomes.get(c.name) as [Outcome, Outcome])[1];
      if (c.expect === 'reject') {
        const ok = ours.accepted.length === 0 && ours.statuses.some((s) => s === 400 || s === 501) && ours.closed;
        if (!ok) complaints.push(`${c.name}: must be rejected with 400/501 and closed; ours: ${describeOutcome(ours)}`);
      }
      const why = c.check?.(ours, 'engine');
      if (why !== undefined) complaints.push(`${c.name}: ${why}; ours: ${describeOutcome(ours)}`);
    }
    expect(complaints).toEqual([]);
  });

  it('own cases, HTTP Garden payloads and the llhttp +Host corpus through a full Sidecar: what reaches the upstream', async () => {
    const garden = loadGarden()?.cases ?? [];
    const cases = [...OWN_CASES, ...garden, ...hostCases].map((c) => ({ ...c, name: `sidecar ${c.name}` }));
    // Routing decides the authority here (the upstream's service stands for it); the target is what the upstream got.
    const { rows, outcomes } = await differential('sidecar', cases, node, sidecar, {
      localAddress: true,
      authority: false,
    });
    const complaints = failureText(rows);
    for (const c of OWN_CASES) {
      const ours = (outcomes.get(`sidecar ${c.name}`) as [Outcome, Outcome])[1];
      if (c.expect === 'reject') {
        const ok =
          ours.accepted.length === 0 &&
          ours.delivered.length === 0 &&
          ours.statuses.some((s) => s === 400 || s === 501);
        if (!ok)
          complaints.push(
            `sidecar ${c.name}: must be rejected with 400/501, nothing upstream; ours: ${describeOutcome(ours)}`,
          );
      }
      const why = c.check?.(ours, 'sidecar');
      if (why !== undefined) complaints.push(`sidecar ${c.name}: ${why}; ours: ${describeOutcome(ours)}`);
    }
    expect(complaints).toEqual([]);
  });
});

describe('HTTP/1.1 differential: responses (node http.request vs Http1Pool)', () => {
  let raw: RawResponder;
  beforeAll(async () => {
    raw = await new RawResponder().listen();
  });
  afterAll(async () => {
    await raw?.close();
  });

  it('llhttp response corpus and own response cases: the pool accepts no response node rejects, reads the same status and body', async () => {
    const started = performance.now();
    const cases = [
      ...loadLlhttp()
        .cases.filter((c) => c.kind === 'response')
        .map((c) => ({
          name: `llhttp ${c.name} [${c.type}]`,
          bytes: c.bytes,
          note: `llhttp log: ${c.verdict}${c.error ? ` (error ${c.error.code} ${c.error.reason})` : ''}`,
        })),
      ...OWN_RESPONSES.map((c) => ({ ...c, note: undefined })),
    ];
    const rows: Row[] = [];
    await mapLimit(cases, CONCURRENCY, async (c) => {
      const path = raw.register(c.bytes);
      const [n, o] = await Promise.all([nodeFetch(raw.port, path), poolFetch(raw.port, path)]);
      const cmp: ResponseComparison = compareResponses(n, o);
      if (cmp.kind === 'same') return;
      const row: Row = {
        suite: 'responses',
        name: c.name,
        bytes: c.bytes,
        node: describeResponse(n),
        ours: describeResponse(o),
        kind: cmp.kind === 'differs' ? `differs in ${cmp.field}` : cmp.kind,
        ...(c.note === undefined ? {} : { note: c.note }),
      };
      const allow = ALLOWED[row.name];
      if (cmp.kind === 'stricter') stricter.push(row);
      else if (allow !== undefined) {
        allowUsed.add(row.name);
        allowed.push({ ...row, note: allow.reason });
      } else {
        failures.push(row);
        rows.push(row);
      }
    });
    timings.responses = Math.round(performance.now() - started);
    expect(failureText(rows)).toEqual([]);
  });
});

afterAll(() => {
  const table = (rows: readonly Row[]) =>
    rows.map((r) => ({ case: r.name, kind: r.kind, node: r.node.slice(0, 80), ours: r.ours.slice(0, 80) }));
  if (stricter.length > 0) {
    console.log(`The engine is stricter than llhttp in ${stricter.length} cases (allowed):`);
    console.table(table(stricter));
  }
  if (allowed.length > 0) {
    console.log(`Allow-listed divergences (${allowed.length}):`);
    console.table(allowed.map((r) => ({ case: r.name, kind: r.kind, reason: r.note })));
  }
  if (failures.length > 0) {
    console.log(`FAILING divergences (${failures.length}):`);
    console.table(table(failures));
  }
  const stale = Object.keys(ALLOWED).filter((name) => !allowUsed.has(name));
  if (stale.length > 0) console.warn('Allow-list entries no case needed in this run (stale?):', stale);
  console.log('run times (ms):', timings);
  const path = process.env.WEFT_DIFF_REPORT;
  if (path) writeFileSync(path, report());
});

function report(): string {
  const section = (title: string, rows: readonly Row[], blurb: string): string => {
    let s = `## ${title} (${rows.length})\n\n${blurb}\n\n`;
    for (const r of rows) {
      s += `### ${r.name}\n\n- suite: ${r.suite}\n- kind: **${r.kind}**\n- bytes: \`${escapeBytes(r.bytes, 600).replace(/`/g, '\\x60')}\`\n`;
      s += `- llhttp / node: ${r.node}\n- ours: ${r.ours}\n${r.note ? `- note: ${r.note}\n` : ''}\n`;
    }
    return s;
  };
  return [
    '# HTTP/1.1 differential report: node:http (llhttp strict) vs the sidecar engine\n',
    `Generated by test/proxy/http1-differential.test.ts on ${new Date().toISOString()}.\n`,
    'Outcome format: `accepted N [requests] (+incomplete ones), then rejected <status>[, closed] | closed | open`.',
    'A request is accepted when the handler saw it and read its whole body.\n',
    section(
      'Failing divergences',
      failures,
      'The engine accepts what llhttp rejects, frames requests differently, delivers a different request, or waits where llhttp saw a request.',
    ),
    section('Allow-listed divergences', allowed, 'Deliberate; each with its reason.'),
    section('Stricter than llhttp (allowed)', stricter, 'The engine rejects what llhttp accepts.'),
    section(
      'Other differences (not failures)',
      info,
      'Same requests accepted; then llhttp rejected or closed while the engine still waits for more bytes.',
    ),
    `Run times (ms): ${JSON.stringify(timings)}\n`,
  ].join('\n');
}
