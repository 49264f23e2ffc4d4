/** An instance as the registry lists it: what recipes need of it (its service, address, tags). */
export interface RecipeInstance {
  readonly service_name: string;
  readonly endpoint?: { readonly type?: string; readonly value: string };
  readonly tags?: readonly string[];
}

/**
 * A service as a Gremlin recipe names it: `reviews`, `reviews:v2` or `reviews:version=v2`
 * (several tags comma-separated). `none` as the version (`gateway:none`, `gateway:version=none`),
 * Amalgam8's spelling for an untagged service, means "any instance".
 */
export interface ServiceRef {
  /** As written in the recipe, for messages. */
  readonly text: string;
  readonly name: string;
  /** Every one of them must be carried; empty for any instance. */
  readonly tags: readonly string[];
}

const isNone = (tag: string): boolean => tag === 'none' || tag.endsWith('=none');

/**
 * Parses `name[:tags]` (the last `:` splits, as in a8ctl). A bare tag no instance of the service
 * carries, when some carry `version=<tag>`, means that one: Amalgam8 tagged instances `v1`, Weft's
 * examples tag them `version=v1`, and a recipe written for either works against both.
 */
export function parseServiceRef(text: string, instances: readonly RecipeInstance[] = []): ServiceRef {
  const colon = text.lastIndexOf(':');
  const name = (colon === -1 ? text : text.slice(0, colon)).trim();
  const written =
    colon === -1
      ? []
      : text
          .slice(colon + 1)
          .split(',')
          .map((t) => t.trim())
          .filter((t) => t !== '' && !isNone(t));
  const carried = new Set(instances.filter((i) => i.service_name === name).flatMap((i) => i.tags ?? []));
  const tags = written.map((tag) =>
    tag.includes('=') || carried.has(tag) || !carried.has(`version=${tag}`) ? tag : `version=${tag}`,
  );
  return { text, name, tags };
}

/** `reviews:version=v2`, or the bare name for any instance. */
export const formatRef = (ref: Pick<ServiceRef, 'name' | 'tags'>): string =>
  ref.tags.length === 0 ? ref.name : `${ref.name}:${ref.tags.join(',')}`;

/** Whether `tags` carry every tag `ref` asks for. */
export const carriesAll = (ref: ServiceRef, tags: readonly string[]): boolean =>
  ref.tags.every((t) => tags.includes(t));

/** Whether two refs name the same service and tags (order aside). */
export const sameRef = (a: ServiceRef, b: ServiceRef): boolean =>
  a.name === b.name && a.tags.length === b.tags.length && carriesAll(a, b.tags);
