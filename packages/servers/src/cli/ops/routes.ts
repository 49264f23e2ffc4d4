import { compareRules } from '@weft/core';
import { describeMatch } from './describe-match.js';
import type { Selector } from './selectors.js';
import { tagsToVersion } from './versions.js';
import type { WireBackend, WireMatch, WireRule } from './wire.js';

/** A selector whose version is resolved to the tags of the service's instances. */
export interface ResolvedSelector extends Selector {
  readonly tags: string[];
}

/**
 * The route rules `route-set` writes, as a8ctl wrote them: a catch-all rule (priority 1) to the
 * default version, with the weighted selectors as its other backends; with `--source`, that
 * split applies to the source's requests only (priority 2) and a plain default rule stays below
 * it for everyone else; then one rule per conditional selector, the first given the highest
 * priority (the first that matches wins), each carrying the source condition too.
 */
export function routeSetRules(
  destination: string,
  defaultTags: string[],
  selectors: readonly ResolvedSelector[],
  source: { name: string; tags?: string[] } | undefined,
): WireRule[] {
  const split = (extra: readonly ResolvedSelector[]): WireBackend[] => [
    ...extra.map((s) => ({ tags: s.tags, weight: s.weight as number })),
    { tags: defaultTags },
  ];
  const weighted = selectors.filter((s) => s.match === undefined);
  const conditional = selectors.filter((s) => s.match !== undefined);
  const withSource = (match: WireMatch | undefined): WireMatch | undefined =>
    source === undefined ? match : { source, ...match };

  const rules: WireRule[] = [
    { destination, priority: 1, route: { backends: split(source === undefined ? weighted : []) } },
  ];
  let priority = 1;
  if (source !== undefined && weighted.length > 0)
    rules.unshift({ destination, priority: ++priority, match: { source }, route: { backends: split(weighted) } });
  for (const s of [...conditional].reverse())
    rules.unshift({
      destination,
      priority: ++priority,
      match: withSource(s.match) as WireMatch,
      route: { backends: s.weight === undefined ? [{ tags: s.tags }] : split([s]) },
    });
  return rules;
}

/** Rules in the order a proxy tries them: priority (highest first), then id (core's order). */
export function inEvaluationOrder(rules: readonly WireRule[]): WireRule[] {
  const orderable = rules.map((rule, index) => ({ rule, index, priority: rule.priority ?? 0, id: rule.id }));
  return orderable.sort(compareRules).map((o) => o.rule);
}

/**
 * a8ctl's view of a service's route rules: the default version (the catch-all's unweighted
 * backend) and the selectors — `v2(weight=0.25)`, `v2(user="jason")` — in the order a proxy
 * tries them, so the first selector that fits a request is the one it gets.
 */
export function routeSummary(rules: readonly WireRule[]): { default: string | undefined; selectors: string[] } {
  let defaultVersion: string | undefined;
  const selectors: string[] = [];
  for (const rule of inEvaluationOrder(rules)) {
    const backends = rule.route?.backends ?? [];
    const conditions = describeMatch(rule.match);
    for (const b of backends) {
      const version = tagsToVersion(b.tags);
      const parts = [...conditions, ...(b.weight === undefined ? [] : [`weight=${b.weight}`])];
      if (parts.length > 0) selectors.push(`${version}(${parts.join(',')})`);
      else defaultVersion ??= version;
    }
  }
  return { default: defaultVersion, selectors };
}
