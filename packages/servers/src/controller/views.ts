import { ruleMatcher, selectsAll } from '../rules-store/filter.js';
import type { NamespaceRules, RuleFilter, StoredRule } from '../rules-store/types.js';

/** `GET /v1/rules` and `GET /v1/rules/{routes,actions}/{destination}`: Amalgam8's `{rules, revision}`. */
export interface RulesView {
  readonly rules: readonly StoredRule[];
  readonly revision: number;
}

/** `GET /v1/rules/routes` and `/actions`: Amalgam8's `{services: {destination: [rules]}}`, plus `revision`. */
export interface ServicesView {
  readonly services: Readonly<Record<string, readonly StoredRule[]>>;
  readonly revision: number;
}

/** Most distinct filtered views kept for sharing (the oldest is dropped beyond). */
const MEMO_SIZE = 256;

/**
 * One renderer per distinct filter: `serveRead` serialises a change once per renderer, so the
 * thousand proxies that watch `?destination=reviews` share one serialisation instead of paying
 * one each.
 */
function memoised<V>(
  make: (filter: RuleFilter) => (ns: NamespaceRules) => V,
): (filter: RuleFilter) => (ns: NamespaceRules) => V {
  const memo = new Map<string, (ns: NamespaceRules) => V>();
  return (filter) => {
    const key = JSON.stringify([filter.ids, filter.tags, filter.destinations, filter.kind]);
    let view = memo.get(key);
    if (view === undefined) {
      view = make(filter);
      if (memo.size >= MEMO_SIZE) memo.delete(memo.keys().next().value as string);
      memo.set(key, view);
    }
    return view;
  };
}

const allRules = (ns: NamespaceRules): RulesView => ({ rules: ns.rules, revision: ns.revision });

/** Renders a namespace as `{rules, revision}`, the rules `filter` selects in stored order. */
export const rulesView = memoised((filter): ((ns: NamespaceRules) => RulesView) => {
  if (selectsAll(filter)) return allRules;
  const selected = ruleMatcher(filter);
  return (ns) => ({ rules: ns.rules.filter(selected), revision: ns.revision });
});

/** Renders a namespace as `{services, revision}`: the selected rules grouped by destination. */
export const servicesView = memoised((filter): ((ns: NamespaceRules) => ServicesView) => {
  const selected = ruleMatcher(filter);
  return (ns) => {
    // A null-prototype object: destinations are user input, `__proto__` must stay a plain key.
    const services = Object.create(null) as Record<string, StoredRule[]>;
    for (const rule of ns.rules) {
      if (!selected(rule)) continue;
      const list = services[rule.destination];
      if (list === undefined) services[rule.destination] = [rule];
      else list.push(rule);
    }
    return { services, revision: ns.revision };
  };
});
