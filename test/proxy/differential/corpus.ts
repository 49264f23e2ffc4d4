/** Loads the vendored llhttp corpus (test/corpora/llhttp) and the HTTP Garden payloads. */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeGarden, type GardenCase, gardenFile } from './garden.js';
import { decodeLlhttpFile, type LlhttpCase, type SkippedCase } from './llhttp-md.js';

export const CORPUS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'corpora');

/** Every case of llhttp's request/ and response/ markdown files, and the ones skipped with reasons. */
export function loadLlhttp(): { cases: LlhttpCase[]; skipped: SkippedCase[] } {
  const cases: LlhttpCase[] = [];
  const skipped: SkippedCase[] = [];
  for (const dir of ['request', 'response']) {
    for (const file of readdirSync(join(CORPUS_DIR, 'llhttp', dir)).sort()) {
      if (!file.endsWith('.md')) continue;
      const r = decodeLlhttpFile(`${dir}/${file}`, readFileSync(join(CORPUS_DIR, 'llhttp', dir, file), 'utf8'));
      cases.push(...r.cases);
      skipped.push(...r.skipped);
    }
  }
  return { cases, skipped };
}

/** HTTP Garden's payloads, or undefined when TROPHIES.md is not on this machine. */
export function loadGarden(): { file: string; cases: GardenCase[] } | undefined {
  const file = gardenFile();
  if (file === undefined) return undefined;
  return { file, cases: decodeGarden(readFileSync(file, 'latin1')) };
}

/**
 * A copy of a request with `Host: svc` added after the request line, for the many llhttp cases
 * that have none (node:http answers an HTTP/1.1 request without Host 400 before llhttp's framing
 * matters, and so does the engine); `svc` is a service of the Sidecar pass. Leading CRLFs are skipped; the header goes after the first
 * line break that follows. Undefined when the input already names a Host or has no line break.
 */
export function withHost(bytes: Buffer): Buffer | undefined {
  const text = bytes.toString('latin1');
  if (/(^|\n)host[ \t]*:/i.test(text)) return undefined;
  let start = 0;
  while (text.startsWith('\r\n', start)) start += 2;
  const eol = text.indexOf('\r\n', start);
  if (eol < 0) return undefined;
  return Buffer.concat([bytes.subarray(0, eol + 2), Buffer.from('Host: svc\r\n', 'latin1'), bytes.subarray(eol + 2)]);
}
