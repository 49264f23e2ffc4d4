import type { RuleFilter, RuleKind } from '../rules-store/types.js';

/** Every value of a query parameter (fastify gives a repeated one as an array), empty ones dropped. */
export function queryValues(query: unknown, name: string): string[] {
  if (typeof query !== 'object' || query === null || !Object.hasOwn(query, name)) return [];
  const v = (query as Record<string, unknown>)[name];
  const list = Array.isArray(v) ? v : [v];
  return list.filter((x): x is string => typeof x === 'string' && x !== '');
}

/** The first value of a query parameter. */
export function queryValue(query: unknown, name: string): string | undefined {
  return queryValues(query, name)[0];
}

/**
 * Amalgam8's rule filter from the query: `id`, `tag` and `destination`, each repeatable
 * (`?id=a&id=b`). Ids and destinations are alternatives, tags are all required.
 */
export function filterFromQuery(query: unknown, kind?: RuleKind): RuleFilter {
  return {
    ids: queryValues(query, 'id'),
    tags: queryValues(query, 'tag'),
    destinations: queryValues(query, 'destination'),
    kind,
  };
}
