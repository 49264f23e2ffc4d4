/**
 * Decoder for llhttp's markdown test files (test/corpora/llhttp/{request,response}/*.md), written to
 * give exactly the inputs llhttp's own `test/md-test.ts` (v9.4.2) feeds its parser:
 *
 * - Markdown structure as mdgator reads it (markdown-it tokens): a heading opens a node; fenced
 *   blocks count only below a top-level heading (mdgator's `stack.length > 1`); a heading whose
 *   children have fences is a test; an HTML comment `<!-- meta={...} -->` gives its JSON to the next
 *   fence of the same heading (a heading resets it). The fence's info string is compared verbatim
 *   (markdown-it does not trim it), so only ```` ```http ```` and ```` ```log ```` blocks count.
 * - markdown-it's normalisation first: CRLF and lone CR become LF, NUL becomes U+FFFD.
 * - md-test's transforms, in its order: drop the one trailing LF; drop backslash-newline (a line
 *   ending in `\` joins the next one, no line break); every remaining line break becomes CRLF; then
 *   `\r`, `\n`, `\t`, `\f`, `\xHH…` (any number of hex digits), octal `\NNN` (1–3 digits) and
 *   `${js}` (evaluated with node:vm, as md-test does).
 * - The string reaches llhttp's test binary through argv, i.e. UTF-8 encoded: `\xff` is the two
 *   bytes C3 BF (the corpus's own log for "255 ASCII in header value" shows len=8 for `ÿValue2`).
 *   So the bytes are `Buffer.from(input, 'utf8')`.
 * - The `log` block: `\t` / `\f` unescaped, split on LF with the last (empty) element dropped,
 *   lines starting with `/` are regular expressions. A line `off=N error code=C reason="…"` is the
 *   parser's verdict; codes 21 (HPE_PAUSED, the pausing tests' callbacks), 22 (HPE_PAUSED_UPGRADE)
 *   and 23 (HPE_PAUSED_H2_UPGRADE) are pauses, not rejections.
 */
import vm from 'node:vm';

/** md-test's JSON metadata of an `http` block. */
export interface LlhttpMeta {
  type?: string;
  noScan?: boolean;
  pause?: string;
  skipBody?: boolean;
  skip?: boolean;
  only?: boolean;
  mode?: string;
}

/** One mdgator test: a heading with fenced blocks (by info string) and their metadata. */
export interface MdTest {
  name: string;
  /** 0-based line of the heading (md-test prints `line + 1`). */
  line: number;
  values: Map<string, string[]>;
  meta: Map<string, LlhttpMeta[]>;
}

/** One mdgator group: a heading with sub-headings. */
export interface MdGroup {
  name: string;
  line: number;
  children: MdGroup[];
  tests: MdTest[];
}

interface Heading {
  children: Heading[];
  content: Map<string, string[]>;
  depth: number;
  line: number;
  meta: Map<string, LlhttpMeta[]>;
  name: string;
}

type Token =
  | { type: 'heading'; level: number; content: string; line: number }
  | { type: 'fence'; info: string; content: string; line: number }
  | { type: 'html_block'; content: string; line: number };

/** Columns of leading whitespace (tabs to the next multiple of 4) and its length in characters. */
function indentOf(line: string): { cols: number; chars: number } {
  let cols = 0;
  let chars = 0;
  for (; chars < line.length; chars++) {
    const c = line.charCodeAt(chars);
    if (c === 32) cols++;
    else if (c === 9) cols += 4 - (cols % 4);
    else break;
  }
  return { cols, chars };
}

/** markdown-it's getLines for one line: strips up to `indent` columns of leading whitespace. */
function stripIndent(line: string, indent: number): string {
  let cols = 0;
  let i = 0;
  while (i < line.length && cols < indent) {
    const c = line.charCodeAt(i);
    if (c === 32) cols++;
    else if (c === 9) cols += 4 - (cols % 4);
    else break;
    i++;
  }
  // A tab that overshoots the indent leaves its remaining columns as spaces (markdown-it does this).
  return (cols > indent ? ' '.repeat(cols - indent) : '') + line.slice(i);
}

const isBlank = (line: string): boolean => /^[ \t]*$/.test(line);

/**
 * The block tokens mdgator looks at (headings, fences, HTML blocks), for the markdown subset the
 * llhttp corpus uses: ATX and setext headings, fenced code, HTML comments, paragraphs, thematic
 * breaks and indented code. (No lists or block quotes: the corpus has none, and they would only
 * change indentation handling.)
 */
export function blockTokens(source: string): Token[] {
  // markdown-it's normalize rule.
  const text = source.replace(/\r\n?|\n/g, '\n').replace(/\0/g, '\uFFFD');
  const lines = text.split('\n');
  // A final newline does not start another line.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const tokens: Token[] = [];
  let paragraph: { start: number; lines: string[] } | null = null;
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] as string;
    if (isBlank(line)) {
      paragraph = null;
      i++;
      continue;
    }
    const { cols, chars } = indentOf(line);
    const rest = line.slice(chars);
    if (cols >= 4) {
      // Indented code, or a lazy continuation of a paragraph.
      if (paragraph !== null) paragraph.lines.push(line);
      i++;
      continue;
    }
    // Fenced code (interrupts a paragraph).
    const fence = /^(`{3,}|~{3,})(.*)$/.exec(rest);
    if (fence !== null && !((fence[1] as string)[0] === '`' && (fence[2] as string).includes('`'))) {
      const marker = fence[1] as string;
      const info = fence[2] as string;
      const body: string[] = [];
      let j = i + 1;
      for (; j < lines.length; j++) {
        const l = lines[j] as string;
        const ind = indentOf(l);
        const tail = l.slice(ind.chars);
        if (ind.cols < 4 && tail.startsWith(marker[0] as string)) {
          let k = 0;
          while (k < tail.length && tail[k] === marker[0]) k++;
          if (k >= marker.length && /^[ \t]*$/.test(tail.slice(k))) break;
        }
        body.push(`${stripIndent(l, cols)}\n`);
      }
      tokens.push({ type: 'fence', info, content: body.join(''), line: i });
      paragraph = null;
      i = j + 1;
      continue;
    }
    // ATX heading (interrupts a paragraph).
    const atx = /^(#{1,6})(?:[ \t](.*))?$/.exec(rest);
    if (atx !== null) {
      let content = (atx[2] ?? '').replace(/[ \t]+$/, '');
      // Closing sequence: trailing #s preceded by a space (or the whole content).
      const closing = /(^|[ \t])#+$/.exec(content);
      if (closing !== null) content = content.slice(0, closing.index);
      tokens.push({ type: 'heading', level: (atx[1] as string).length, content: content.trim(), line: i });
      paragraph = null;
      i++;
      continue;
    }
    // HTML comment block (type 2: interrupts a paragraph), up to the line with `-->`.
    if (rest.startsWith('<!--')) {
      let j = i;
      while (j < lines.length && !(lines[j] as string).includes('-->')) j++;
      const end = Math.min(j, lines.length - 1);
      tokens.push({ type: 'html_block', content: `${lines.slice(i, end + 1).join('\n')}\n`, line: i });
      paragraph = null;
      i = end + 1;
      continue;
    }
    // Setext underline ends a paragraph as a heading.
    if (paragraph !== null && /^(=+|-+)[ \t]*$/.test(rest)) {
      tokens.push({
        type: 'heading',
        level: rest[0] === '=' ? 1 : 2,
        content: paragraph.lines.join('\n').trim(),
        line: paragraph.start,
      });
      paragraph = null;
      i++;
      continue;
    }
    // Thematic break.
    if (/^(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$/.test(rest)) {
      paragraph = null;
      i++;
      continue;
    }
    if (paragraph === null) paragraph = { start: i, lines: [] };
    paragraph.lines.push(rest);
    i++;
  }
  return tokens;
}

/** mdgator's `parse`: the heading tree, translated into groups and tests. */
export function parseMd(source: string): MdGroup[] {
  const roots: Heading[] = [];
  const stack: Heading[] = [];
  let metadata: LlhttpMeta | undefined;
  for (const token of blockTokens(source)) {
    if (token.type === 'heading') {
      metadata = undefined;
      const depth = token.level - 1;
      while (stack.length !== 0 && (stack[stack.length - 1] as Heading).depth >= depth) stack.pop();
      const heading: Heading = {
        children: [],
        content: new Map(),
        depth,
        line: token.line,
        meta: new Map(),
        name: token.content,
      };
      if (stack.length === 0) roots.push(heading);
      else (stack[stack.length - 1] as Heading).children.push(heading);
      stack.push(heading);
    } else if (token.type === 'fence' && stack.length > 1) {
      const current = stack[stack.length - 1] as Heading;
      const list = current.content.get(token.info) ?? [];
      list.push(token.content);
      current.content.set(token.info, list);
      if (metadata !== undefined) {
        const metas = current.meta.get(token.info) ?? [];
        metas.push(metadata);
        current.meta.set(token.info, metas);
        metadata = undefined;
      }
    } else if (token.type === 'html_block' && stack.length >= 1) {
      const match = /<!--\s+meta=(.*)\s+-->/.exec(token.content);
      if (match === null) continue;
      try {
        metadata = JSON.parse(match[1] as string) as LlhttpMeta;
      } catch {
        throw new Error(`Failed to parse JSON metadata: "${match[1]}"`);
      }
    }
  }
  const translate = (h: Heading): MdGroup => ({
    name: h.name,
    line: h.line,
    children: h.children.filter((c) => c.children.length !== 0).map(translate),
    tests: h.children
      .filter((c) => c.content.size !== 0)
      .map((c) => ({ name: c.name, line: c.line, values: c.content, meta: c.meta })),
  });
  return roots.map(translate);
}

/** md-test's input transforms, in its order (see the module comment). */
export function decodeInput(raw: string): string {
  let input = raw;
  input = input.replace(/\n$/, '');
  input = input.replace(/\\(\r\n|\r|\n)/g, '');
  input = input.replace(/\r\n|\r|\n/g, '\r\n');
  input = input.replace(/\\r/g, '\r');
  input = input.replace(/\\n/g, '\n');
  input = input.replace(/\\t/g, '\t');
  input = input.replace(/\\f/g, '\f');
  input = input.replace(/\\x([0-9a-fA-F]+)/g, (_all, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  input = input.replace(/\\([0-7]{1,3})/g, (_all, digits: string) => String.fromCharCode(Number.parseInt(digits, 8)));
  input = input.replace(/\$\{(.+?)\}/g, (_all, code: string) => `${vm.runInNewContext(code, {}, { timeout: 1000 })}`);
  return input;
}

/** md-test's expected lines: strings, or RegExps for lines starting with `/`. */
export function decodeLog(raw: string): Array<string | RegExp> {
  const expected = raw.replace(/\\t/g, '\t').replace(/\\f/g, '\f');
  return expected
    .split(/\n/g)
    .slice(0, -1)
    .map((line) => (line.startsWith('/') ? new RegExp(line.trim().slice(1, -1)) : line));
}

/** llhttp's verdict in strict mode, as far as the log tells it. */
export type LlhttpVerdict =
  /** The log ends in an error (code other than a pause). */
  | 'rejects'
  /** No error: every message in the input parsed (or llhttp waits for more). */
  | 'accepts'
  /** A `*-lenient-*` case: the log is what the lenient flag allows; strict mode rejects the input. */
  | 'rejects-without-lenient-flag'
  /** The log is for a special mode (skipBody) and says nothing about the default one. */
  | 'unknown';

/** One decoded llhttp test case. */
export interface LlhttpCase {
  /** `request/sample.md:12 Simple request`. */
  name: string;
  /** `request/sample.md:12`, md-test's location. */
  location: string;
  kind: 'request' | 'response';
  /** md-test's `type` metadata. */
  type: string;
  meta: LlhttpMeta;
  /** The input as md-test's string (UTF-16 code units). */
  input: string;
  /** The bytes llhttp's test binary parses (UTF-8 of `input`, as argv carries it). */
  bytes: Buffer;
  expected: Array<string | RegExp>;
  /** `message complete` lines in the log. */
  messages: number;
  /** The log's error line, if any (pauses excluded). */
  error: { code: number; reason: string } | undefined;
  verdict: LlhttpVerdict;
}

/** A case that md-test would run but the differential harness does not, and why. */
export interface SkippedCase {
  name: string;
  type: string;
  reason: string;
}

/** md-test's allowedTypes (llhttp test/fixtures/index.ts at v9.4.2). */
export const ALLOWED_TYPES: readonly string[] = [
  'request',
  'response',
  'request-finish',
  'response-finish',
  'request-lenient-all',
  'response-lenient-all',
  'request-lenient-headers',
  'response-lenient-headers',
  'request-lenient-keep-alive',
  'response-lenient-keep-alive',
  'request-lenient-chunked-length',
  'request-lenient-transfer-encoding',
  'request-lenient-version',
  'response-lenient-version',
  'request-lenient-data-after-close',
  'response-lenient-data-after-close',
  'request-lenient-optional-lf-after-cr',
  'response-lenient-optional-lf-after-cr',
  'request-lenient-optional-cr-before-lf',
  'response-lenient-optional-cr-before-lf',
  'request-lenient-optional-crlf-after-chunk',
  'response-lenient-optional-crlf-after-chunk',
  'request-lenient-spaces-after-chunk-size',
  'response-lenient-spaces-after-chunk-size',
  'request-lenient-header-value-relaxed',
  'response-lenient-header-value-relaxed',
];

/**
 * Types the harness skips, each with its reason. Everything else in ALLOWED_TYPES runs.
 * (`request-only` / `response-only` were md-test types before v9 and are not allowed any more.)
 */
export const SKIPPED_TYPES: Readonly<Record<string, string>> = {
  'request-finish':
    'checks llhttp_finish() at EOF (the log ends with what finish() returns); the harness does not send EOF, ' +
    'and a request is never delimited by EOF, so the bytes alone say nothing about framing',
  'response-finish':
    "checks llhttp_finish() at EOF for a close-delimited response; the harness's upstream keeps the connection " +
    'open after the bytes, so the EOF-dependent result is not what is compared',
};

const ERROR_LINE = /^off=\d+ error code=(\d+) reason="(.*)"$/;
/** HPE_PAUSED, HPE_PAUSED_UPGRADE, HPE_PAUSED_H2_UPGRADE. */
const PAUSE_CODES = new Set([21, 22, 23]);

/**
 * Decodes one corpus file the way md-test runs it: `file` is its path relative to the corpus root
 * (`request/sample.md`), used in names. Returns the cases and the skipped ones with reasons.
 */
export function decodeLlhttpFile(file: string, source: string): { cases: LlhttpCase[]; skipped: SkippedCase[] } {
  const cases: LlhttpCase[] = [];
  const skipped: SkippedCase[] = [];
  const name = file.replace(/\.md$/, '');
  const runTest = (test: MdTest): void => {
    const location = `${name}.md:${test.line + 1}`;
    const label = `${location} ${test.name}`;
    const isURL = test.values.has('url');
    const inputKey = isURL ? 'url' : 'http';
    const inputs = test.values.get(inputKey);
    if (inputs === undefined) throw new Error(`${label}: Missing "${inputKey}" code in md file`);
    if (inputs.length !== 1) throw new Error(`${label}: Expected just one "${inputKey}" input`);
    let meta: LlhttpMeta;
    const metas = test.meta.get(inputKey);
    if (metas !== undefined) meta = metas[0] as LlhttpMeta;
    else if (isURL) meta = {};
    else throw new Error(`${label}: Missing required http metadata`);
    if (isURL) {
      skipped.push({ name: label, type: 'url', reason: 'a URL parser test, not an HTTP message' });
      return;
    }
    if (!Object.hasOwn(meta, 'type')) throw new Error(`${label}: Missing required \`type\` metadata`);
    const type = meta.type;
    if (type && !ALLOWED_TYPES.includes(type))
      throw new Error(`${label}: Invalid value of \`type\` metadata: "${type}"`);
    const logs = test.values.get('log');
    if (logs === undefined) throw new Error(`${label}: Missing \`log\` code in md file`);
    if (logs.length !== 1) throw new Error(`${label}: Expected just one output`);
    // md-test runs nothing for an empty type, and skips `skip: true` (and everything but `only` with ONLY=true).
    if (!type) {
      skipped.push({ name: label, type: '', reason: 'empty type: md-test runs no parser for it' });
      return;
    }
    if (meta.skip === true) {
      skipped.push({ name: label, type, reason: 'meta.skip: md-test skips it' });
      return;
    }
    const why = SKIPPED_TYPES[type];
    if (why !== undefined) {
      skipped.push({ name: label, type, reason: why });
      return;
    }
    const input = decodeInput(inputs[0] as string);
    const expected = decodeLog(logs[0] as string);
    let messages = 0;
    let error: LlhttpCase['error'];
    for (const line of expected) {
      if (typeof line !== 'string') continue;
      if (/^off=\d+ message complete$/.test(line)) messages++;
      const m = ERROR_LINE.exec(line);
      if (m !== null && !PAUSE_CODES.has(Number(m[1]))) error = { code: Number(m[1]), reason: m[2] as string };
    }
    const lenient = type.includes('-lenient-');
    const verdict: LlhttpVerdict = lenient
      ? 'rejects-without-lenient-flag'
      : meta.skipBody === true
        ? 'unknown'
        : error !== undefined
          ? 'rejects'
          : 'accepts';
    cases.push({
      name: label,
      location,
      kind: type.startsWith('response') ? 'response' : 'request',
      type,
      meta,
      input,
      bytes: Buffer.from(input, 'utf8'),
      expected,
      messages,
      error,
      verdict,
    });
  };
  const runGroup = (group: MdGroup): void => {
    for (const child of group.children) runGroup(child);
    for (const test of group.tests) runTest(test);
  };
  for (const group of parseMd(source)) runGroup(group);
  return { cases, skipped };
}
