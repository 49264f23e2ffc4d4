/** A tag split into key and value: `version=v2` → `{key: 'version', value: 'v2'}`; `canary` → `{key: 'canary', value: ''}`. */
export interface ParsedTag {
  key: string;
  value: string;
}

/** Splits a tag at its first `=`. Bare words are tags with an empty value. */
export function parseTag(tag: string): ParsedTag {
  const eq = tag.indexOf('=');
  return eq < 0 ? { key: tag, value: '' } : { key: tag.slice(0, eq), value: tag.slice(eq + 1) };
}

/**
 * True when `tags` carries every tag in `required` (Amalgam8's backend selection rule).
 * An empty `required` matches everything.
 */
export function hasAllTags(tags: readonly string[], required: readonly string[]): boolean {
  for (const r of required) if (!tags.includes(r)) return false;
  return true;
}

/** Turns a label map (Kubernetes, Consul meta) into `key=value` tags, sorted for stable output. */
export function labelsToTags(labels: Readonly<Record<string, string>>): string[] {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`);
}
