import { readFile } from 'node:fs/promises';
import type { LineCounter, Node } from 'yaml';
import { ConfigError } from './errors.js';
import type { Origin } from './origin.js';

/** A config file's settings, with the origin (file and line) of every value in it. */
export interface FileLayer {
  readonly data: Record<string, unknown>;
  readonly origins: ReadonlyMap<string, Origin>;
}

type Yaml = typeof import('yaml');

/** Records the line of every key of a mapping, recursively, as `a.b.c` → origin. */
function recordOrigins(
  yaml: Yaml,
  node: Node | null,
  prefix: string,
  file: string,
  lines: LineCounter,
  out: Map<string, Origin>,
): void {
  if (!yaml.isMap(node)) return;
  for (const pair of node.items) {
    const keyNode = pair.key;
    const name = yaml.isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
    const key = prefix === '' ? name : `${prefix}.${name}`;
    const offset = yaml.isScalar(keyNode) ? keyNode.range?.[0] : undefined;
    out.set(key, { type: 'file', file, key, line: offset === undefined ? undefined : lines.linePos(offset).line });
    recordOrigins(yaml, pair.value as Node | null, key, file, lines, out);
  }
}

/**
 * Reads a YAML config file. `display` is the path as the user gave it, used in messages. An
 * empty file is no settings; anything but a mapping at the top is an error.
 */
export async function readConfigFile(path: string, display: string): Promise<FileLayer> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError('invalid config file', [
      `${display}: cannot be read (${(err as NodeJS.ErrnoException).code ?? err})`,
    ]);
  }
  // Loaded here, not at start-up: most runs have no config file, and the parser costs ~25 ms.
  const yaml = await import('yaml');
  const lines = new yaml.LineCounter();
  // Duplicate keys are errors (yaml's default): with "last one wins", a typo'd copy goes unseen.
  const doc = yaml.parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0)
    throw new ConfigError(
      'invalid config file',
      doc.errors.map((e) => {
        const at = lines.linePos(e.pos[0]);
        return `${display}:${at.line}:${at.col}: ${e.message}`;
      }),
    );
  const data: unknown = doc.toJS();
  if (data === null || data === undefined) return { data: {}, origins: new Map() };
  if (typeof data !== 'object' || Array.isArray(data))
    throw new ConfigError('invalid config file', [`${display}: must be a YAML mapping of settings (key: value)`]);
  const origins = new Map<string, Origin>();
  recordOrigins(yaml, doc.contents, '', display, lines, origins);
  return { data: data as Record<string, unknown>, origins };
}
