import type { BalancerEndpoint } from './picker.js';

/**
 * Endpoint indices sorted by id (ties by index). Consistent-hash tables are built in this order so
 * that two clients given the same endpoints in different orders map every key the same way —
 * discovery sources make no promise about order.
 */
export function idOrder(endpoints: readonly BalancerEndpoint[]): Int32Array {
  const order = new Int32Array(endpoints.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  const id = (i: number): string => (endpoints[i] as BalancerEndpoint).id;
  return order.sort((a, b) => {
    const x = id(a);
    const y = id(b);
    return x < y ? -1 : x > y ? 1 : a - b;
  });
}
