/** What ordering needs to know about a rule. */
export interface Orderable {
  readonly priority: number;
  readonly id: string | undefined;
  /** Position in the input. */
  readonly index: number;
}

/**
 * The evaluation order of rules — Amalgam8 left equal priorities undefined. Weft orders by:
 *
 * 1. `priority`, higher first (Amalgam8);
 * 2. then `id`, ascending by UTF-16 code units (not locale-aware, so every process agrees);
 *    rules without an id come after rules with one;
 * 3. then input order.
 *
 * Ids come second, before input order, because the order in which a controller's store returns
 * rules is not stable across replicas or restarts, while ids are: every sidecar then evaluates the
 * same rules in the same order.
 */
export function compareRules(a: Orderable, b: Orderable): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  if (a.id !== b.id) {
    if (a.id === undefined) return 1;
    if (b.id === undefined) return -1;
    return a.id < b.id ? -1 : 1;
  }
  return a.index - b.index;
}

/** A sorted copy of `rules` in evaluation order (see {@link compareRules}). */
export function sortRules<T extends Orderable>(rules: readonly T[]): T[] {
  return [...rules].sort(compareRules);
}
