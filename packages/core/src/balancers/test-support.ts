/**
 * Helpers shared by the balancer tests. Not exported from the package: tests import it directly.
 */
import type { BalancerEndpoint } from './picker.js';

/** A realistic endpoint id (`10.0.x.y:8080`), unique for i < 65 536. */
export function endpointId(i: number): string {
  return `10.0.${i >> 8}.${i & 255}:8080`;
}

/** `n` endpoints with ids from {@link endpointId} and optional weights. */
export function makeEndpoints(n: number, weight?: (i: number) => number): BalancerEndpoint[] {
  const out: BalancerEndpoint[] = [];
  for (let i = 0; i < n; i++) out.push(weight ? { id: endpointId(i), weight: weight(i) } : { id: endpointId(i) });
  return out;
}

/** A small seeded PRNG (mulberry32) so randomized tests are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` random key strings (1–24 code units, some non-ASCII) from a seeded generator. */
export function randomKeys(seed: number, count: number): string[] {
  const random = seededRandom(seed);
  const keys: string[] = [];
  for (let k = 0; k < count; k++) {
    const length = 1 + Math.floor(random() * 24);
    let s = '';
    for (let c = 0; c < length; c++) {
      s += String.fromCharCode(
        random() < 0.9 ? 0x21 + Math.floor(random() * 94) : 0xa0 + Math.floor(random() * 0x3000),
      );
    }
    keys.push(s);
  }
  return keys;
}

/** nginx's smooth weighted round robin exactly as nginx writes it (O(n) per pick): the reference. */
export function nginxSequence(weights: readonly number[], picks: number): number[] {
  const current = weights.map(() => 0);
  const total = weights.reduce((a, b) => a + b, 0);
  const out: number[] = [];
  for (let s = 0; s < picks; s++) {
    let best = -1;
    for (let i = 0; i < weights.length; i++) {
      current[i] = (current[i] as number) + (weights[i] as number);
      if (best < 0 || (current[i] as number) > (current[best] as number)) best = i;
    }
    current[best] = (current[best] as number) - total;
    out.push(best);
  }
  return out;
}

/** How many times each index appears in `picks`. */
export function countPicks(picks: readonly number[], n: number): number[] {
  const counts = new Array<number>(n).fill(0);
  for (const p of picks) counts[p] = (counts[p] as number) + 1;
  return counts;
}

/** A shuffled copy of `items` (Fisher–Yates with the given RNG). */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
