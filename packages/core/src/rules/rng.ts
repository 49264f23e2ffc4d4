/** A source of uniform random numbers in [0, 1), like `Math.random`. */
export type Rng = () => number;

/**
 * A small, fast, seedable PRNG (xoshiro128**, seeded through splitmix32) returning numbers in
 * [0, 1). Tests and benchmarks inject it so weighted choices and fault rolls are reproducible;
 * production code may pass `Math.random` (the default everywhere an `Rng` is optional).
 *
 * Not cryptographically secure — it only spreads traffic.
 */
export function createRng(seed: number): Rng {
  // splitmix32 turns any seed (even 0, or close seeds) into four well-mixed, non-zero state words.
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = next();
  let b = next();
  let c = next();
  let d = next();
  if ((a | b | c | d) === 0) a = 1; // the all-zero state is a fixed point of xoshiro
  return () => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result / 4294967296;
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * One number from `rng`. `Math.random` is called directly when it is the source: V8 inlines a
 * direct `Math.random()`, while a call through a variable returns a boxed double — an
 * allocation per call on the hot path.
 */
export function draw(rng: Rng): number {
  return rng === Math.random ? Math.random() : rng();
}
