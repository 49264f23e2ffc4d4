import { createPicker } from '@weft/core';
import type { BalancerEndpoint, LbPolicy, Picker } from './types.js';

/** Builds the picker of an endpoint subset with core's balancers. */
export function makePicker<E extends BalancerEndpoint>(policy: LbPolicy, endpoints: readonly E[]): Picker<E> {
  return createPicker(policy, endpoints);
}
