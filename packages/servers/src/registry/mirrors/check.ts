import * as z from 'zod/mini';
import { MirrorListSchema, mirrorName } from '../../config/mirrors-settings.js';
import { isLiveSource } from './open-mirrors.js';

const path = (segments: readonly PropertyKey[]): string =>
  segments.reduce<string>(
    (out, seg) => (typeof seg === 'number' ? `${out}[${seg}]` : out === '' ? String(seg) : `${out}.${String(seg)}`),
    '',
  );

/**
 * Checks `createRegistryServer`'s `mirrors` with the config file's own schema (so both name a bad
 * field the same way, `mirrors[0].source.type`), letting through a live discovery source as
 * `source` (which only embedding code can pass).
 */
export function checkMirrors(mirrors: unknown, bad: (path: string, message: string) => void, root = 'mirrors'): void {
  if (!Array.isArray(mirrors)) {
    bad(root, 'must be a list of mirrors');
    return;
  }
  // A live source is checked by shape; a stand-in with the same name keeps the names' check.
  const data = mirrors.map((m: unknown) => {
    if (typeof m !== 'object' || m === null || !isLiveSource((m as { source?: unknown }).source)) return m;
    const { source, ...rest } = m as { source: { name: string }; name?: string; namespace?: string };
    return { ...rest, name: mirrorName(rest, source.name), source: { type: 'file', path: source.name } };
  });
  const result = z.safeParse(MirrorListSchema, data);
  if (result.success) return;
  for (const issue of result.error.issues)
    if (issue.code === 'unrecognized_keys')
      for (const key of issue.keys) bad(path([root, ...issue.path, key]), 'is not an option');
    else bad(path([root, ...issue.path]), issue.message);
}
