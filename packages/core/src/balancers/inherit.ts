import type { BalancerEndpoint } from './picker.js';

/**
 * Calls `copy(to, from)` for every endpoint of `next` that `previous` also has: `to` is its
 * index in `next`, `from` its index in `previous`. Endpoints are matched by id, then confirmed
 * with `same` when given. Used when a picker is rebuilt for a changed endpoint set and takes
 * over the per-endpoint state of the one it replaces.
 */
export function forEachSameEndpoint<E extends BalancerEndpoint>(
  previous: readonly E[],
  next: readonly E[],
  copy: (to: number, from: number) => void,
  same?: (before: E, after: E) => boolean,
): void {
  const at = new Map<string, number>();
  for (let i = 0; i < previous.length; i++) at.set((previous[i] as E).id, i);
  for (let i = 0; i < next.length; i++) {
    const from = at.get((next[i] as E).id);
    if (from !== undefined && (same === undefined || same(previous[from] as E, next[i] as E))) copy(i, from);
  }
}
