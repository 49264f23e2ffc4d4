/**
 * The `Payload:` lines of HTTP Garden's TROPHIES.md (narfindustries/http-garden): each is one or
 * more backtick-quoted strings with Python/JS-style escapes (`\r`, `\n`, `\t`, `\xHH`, …) that
 * stand for raw bytes. Several backtick strings on one line are one payload, concatenated; a line
 * without backticks ("Any request at all.") is no payload.
 *
 * HTTP Garden is GPL-3.0, so its file is not vendored into this Apache-2.0 repository by default:
 * {@link gardenFile} finds `test/corpora/http-garden/TROPHIES.md` if someone vendors it after
 * all, else the workplace's shared copy `../shared/corpora/http-garden/TROPHIES.md` beside the
 * repository (see test/corpora/README.md).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Where TROPHIES.md is read from, or undefined when neither copy exists. */
export function gardenFile(): string | undefined {
  const candidates = [
    join(root, 'test', 'corpora', 'http-garden', 'TROPHIES.md'),
    join(root, '..', 'shared', 'corpora', 'http-garden', 'TROPHIES.md'),
  ];
  return candidates.find((p) => existsSync(p));
}

/** Decodes one backtick-quoted payload: escapes to characters, each character one byte (latin1). */
export function decodeEscapes(s: string): Buffer {
  const simple: Record<string, string> = { r: '\r', n: '\n', t: '\t', b: '\b', f: '\f', v: '\v', 0: '\0' };
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c !== '\\' || i + 1 >= s.length) {
      out += c;
      continue;
    }
    const e = s[i + 1] as string;
    if (e === 'x' && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 2, i + 4))) {
      out += String.fromCharCode(Number.parseInt(s.slice(i + 2, i + 4), 16));
      i += 3;
    } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) {
      out += String.fromCharCode(Number.parseInt(s.slice(i + 2, i + 6), 16));
      i += 5;
    } else {
      // `\\`, `\'`, `\"`, `` \` `` and any other escaped character stand for themselves.
      out += simple[e] ?? e;
      i++;
    }
  }
  return Buffer.from(out, 'latin1');
}

/** One payload, named after its section and numbered item. */
export interface GardenCase {
  /** `garden Server Bugs #3: Whitespace is incorrectly stripped…` */
  name: string;
  /** 1-based line of the `Payload:` line. */
  line: number;
  bytes: Buffer;
}

/** Every payload of TROPHIES.md, in file order. */
export function decodeGarden(source: string): GardenCase[] {
  const out: GardenCase[] = [];
  let section = '';
  let item = '';
  const lines = source.split('\n');
  for (const [i, line] of lines.entries()) {
    const heading = /^#{2,3} (.*)$/.exec(line);
    if (heading !== null) {
      section = (heading[1] as string).trim();
      continue;
    }
    const numbered = /^(\d+)\. (.*)$/.exec(line);
    if (numbered !== null) {
      const title = (numbered[2] as string).trim();
      item = `#${numbered[1]}: ${title.length > 70 ? `${title.slice(0, 70)}…` : title}`;
      continue;
    }
    const payload = /^\s*- Payload: (.*)$/.exec(line);
    if (payload === null) continue;
    const quoted = [...(payload[1] as string).matchAll(/`([^`]*)`/g)].map((m) => m[1] as string);
    if (quoted.length === 0) continue;
    out.push({
      name: `garden ${section} ${item} (TROPHIES.md:${i + 1})`,
      line: i + 1,
      bytes: Buffer.concat(quoted.map(decodeEscapes)),
    });
  }
  return out;
}
