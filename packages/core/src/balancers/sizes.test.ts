import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/index.js';
import { createPicker } from './create-picker.js';
import type { LbPolicy } from './registry.js';
import { makeEndpoints, randomKeys, seededRandom } from './test-support.js';

const policies: LbPolicy[] = [
  'round_robin',
  'weighted_round_robin',
  'random',
  'least_request',
  'peak_ewma',
  'ring_hash',
  'maglev',
];
const keys = randomKeys(1, 200);
const options = () => ({ random: seededRandom(1), clock: new VirtualClock() });

describe.each(policies)('%s at the edges of size', (policy) => {
  it('handles no endpoints', () => {
    const p = createPicker(policy, [], options());
    expect(p.pickIndex()).toBe(-1);
    expect(p.pickIndex('key')).toBe(-1);
    expect(p.pick('key')).toBeUndefined();
    p.onStart(0); // no endpoint to count: ignored
    p.onEnd(0, 1);
    expect(() => p.setEjected(0, true)).toThrow(/index/);
  });

  it('handles one endpoint', () => {
    const p = createPicker(policy, makeEndpoints(1), options());
    for (const key of [undefined, ...keys.slice(0, 20)]) {
      expect(p.pickIndex(key)).toBe(0);
      p.onStart(0);
      p.onEnd(0, 3);
    }
    p.setEjected(0, true);
    expect(p.pickIndex('k')).toBe(-1);
    expect(p.pick()).toBeUndefined();
    p.setEjected(0, false);
    expect(p.pick('k')).toBe(p.endpoints[0]);
  });

  it('handles 100 000 endpoints, including all but one ejected', () => {
    const n = 100_000;
    const p = createPicker(
      policy,
      makeEndpoints(n, (i) => 1 + (i % 7)),
      options(),
    );
    const seen = new Set<number>();
    for (let k = 0; k < 2_000; k++) {
      const i = p.pickIndex(keys[k % keys.length]);
      expect(i >= 0 && i < n).toBe(true);
      p.onStart(i);
      p.onEnd(i, 1 + (k % 5));
      seen.add(i);
    }
    // Hash pickers see only 200 distinct keys; the others should spread 2 000 picks widely.
    expect(seen.size).toBeGreaterThan(policy === 'ring_hash' || policy === 'maglev' ? 150 : 1_000);
    const survivor = 77_777;
    for (let i = 0; i < n; i++) if (i !== survivor) p.setEjected(i, true);
    for (const key of [undefined, ...keys.slice(0, 5)]) expect(p.pickIndex(key)).toBe(survivor);
  });
});
