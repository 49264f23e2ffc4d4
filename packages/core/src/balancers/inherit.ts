import type { BalancerEndpoint } from './picker.js';

/**
 * Calls `copy(to, from)` for every endpoint of `next` that `previous` also has, matched by id:
 * `to` is its index in `next`, `from` its index in `previous`. Used when a picker is rebuilt
 * for a changed endpoint set and takes over the per-endpoint state of the one it replaces.
 */
export function forEachSameEndpoint(
  previous: readonly BalancerEndpoint[],
  next: readonly BalancerEndpoint[],
  copy: (to: number, from: number) => void,
): void {
  const at = new Map<string, number>();
  for (let i = 0; i < previous.length; i++) at.set((previous[i] as BalancerEndpoint).id, i);
  for (let i = 0; i < next.length; i++) {
    const from = at.get((next[i] as BalancerEndpoint).id);
    if (from !== undefined) copy(i, from);
  }
}
