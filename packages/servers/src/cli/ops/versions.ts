import type { ApiClient } from './http.js';
import { instancesOf, type WireInstance } from './wire.js';

/**
 * a8ctl's notion of a version: an instance's tags joined by `,` (tags `["v1"]` → `v1`,
 * `["v2","canary"]` → `v2,canary`); untagged instances are `-untagged-`.
 */
export const NO_VERSION = '-untagged-';

export function tagsToVersion(tags: readonly string[] | undefined): string {
  return tags === undefined || tags.length === 0 ? NO_VERSION : tags.join(',');
}

/**
 * The label the proxies' metrics give a rule backend (`weft_backend_requests_total{backend}`): its
 * tags sorted and joined by `,` — the same rule as @weft/proxy's `backendLabel`, kept here so the
 * CLI does not load the proxy to read a label.
 */
export function backendLabel(tags: readonly string[]): string {
  return [...tags].sort().join(',');
}

export function versionToTags(version: string): string[] {
  return version
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
}

/**
 * The tags a version means for a service. Amalgam8 tagged instances `v1`; Weft's examples tag
 * them `version=v1`. So a bare tag that no instance of the service carries, when some carry
 * `version=<tag>`, means that one: `--default v1` works with either convention, and
 * `version=v1` is always taken as written. Without instances to look at, tags are kept as typed.
 */
export function resolveTags(version: string, instances: readonly WireInstance[]): string[] {
  const carried = new Set(instances.flatMap((i) => i.tags ?? []));
  return versionToTags(version).map((tag) =>
    tag.includes('=') || carried.has(tag) || !carried.has(`version=${tag}`) ? tag : `version=${tag}`,
  );
}

/** Every instance of the registry in any status, optionally of one service. */
export async function listInstances(registry: ApiClient, service?: string): Promise<WireInstance[]> {
  const answer = await registry.get('/api/v1/instances', {
    query: { status: 'ALL', ...(service === undefined ? {} : { service_name: service }) },
  });
  return instancesOf(answer.body);
}

/** Whether some instance carries every one of `tags`. */
export function hasInstanceWith(instances: readonly WireInstance[], tags: readonly string[]): boolean {
  return instances.some((i) => tags.every((t) => (i.tags ?? []).includes(t)));
}

/** `reviews:v2` → `{name: 'reviews', version: 'v2'}` (the last `:` splits, as in a8ctl). */
export function splitService(text: string): { name: string; version: string | undefined } {
  const colon = text.lastIndexOf(':');
  return colon === -1
    ? { name: text, version: undefined }
    : { name: text.slice(0, colon), version: text.slice(colon + 1) };
}

/** The source condition of a rule from `--source name[:version]`, its tags resolved against the registry. */
export function sourceMatch(text: string, instances: readonly WireInstance[]): { name: string; tags?: string[] } {
  const { name, version } = splitService(text);
  const own = instances.filter((i) => i.service_name === name);
  return version === undefined || version === '' ? { name } : { name, tags: resolveTags(version, own) };
}
