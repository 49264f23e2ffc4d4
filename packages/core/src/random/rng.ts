/**
 * Randomness for Weft: the pickers' draws and the rule engine's weighted choices and fault rolls.
 * Everything that draws takes an injectable source so tests and simulations are deterministic:
 * {@link fastRandom} by default, {@link createRng} for a seeded, reproducible sequence.
 *
 * The default is not `Math.random`: on current V8 (measured on Node 24) every `Math.random()`
 * call returns a freshly allocated HeapNumber — about 16 bytes of garbage per pick, a scavenge
 * every few hundred thousand picks — and it costs ~10 ns. The default is sfc32 (Chris Doty-
 * Humphrey's Small Fast Counter, from his PractRand suite) on 32-bit integer state kept in an
 * `Int32Array`, seeded from `Math.random` once: ~2 ns a draw and no allocation. Load balancing
 * needs uniformity, not unpredictability, so a non-cryptographic generator is right here.
 */

/** A source of uniform numbers in [0, 1), like `Math.random`. */
export type RandomSource = () => number;

/** The rule engine's name for a {@link RandomSource}. */
export type Rng = RandomSource;

/** sfc32 state (a, b, c, counter). A typed array, so updates never box a number. */
const state = new Int32Array(4);
for (let i = 0; i < 4; i++) state[i] = (Math.random() * 2 ** 32) | 0;
const TO_UNIT = 2 ** -30;

/**
 * One sfc32 step, returning its top 30 bits. 30 bits, not 32, so the result is always a small
 * integer (Smi) to V8: even where the optimiser does not inline this call, returning it boxes
 * nothing — a double or a full uint32 return would allocate a HeapNumber per call.
 */
function next30(): number {
  const a = state[0] as number;
  const b = state[1] as number;
  let c = state[2] as number;
  const counter = state[3] as number;
  const t = (((a + b) | 0) + counter) | 0;
  state[3] = (counter + 1) | 0;
  state[0] = b ^ (b >>> 9);
  state[1] = (c + (c << 3)) | 0;
  c = (c << 21) | (c >>> 11);
  state[2] = (c + t) | 0;
  return t >>> 2;
}

/**
 * The default {@link RandomSource}: a uniform draw in [0, 1) (30 random bits) from a process-wide
 * sfc32 generator.
 */
export function fastRandom(): number {
  return next30() * TO_UNIT;
}

/** The default {@link RandomSource} of every picker. */
export const defaultRandom: RandomSource = fastRandom;

/**
 * A uniform integer in [0, size) from `random` — the pickers' only way to draw. With the default
 * generator it never leaves integer arithmetic and returns a Smi, so it allocates nothing whether
 * or not V8 inlines it; an injected source is called normally (tests and simulations).
 *
 * @param size - must be in [1, 2^30].
 */
export function randomInt(random: RandomSource, size: number): number {
  if (random === fastRandom) return (next30() * size * TO_UNIT) >>> 0;
  return randomIndex(random(), size);
}

/**
 * Maps a draw `r` in [0, 1) to an index in [0, size). A misbehaving source (1, negative, NaN)
 * still yields a valid index rather than reading past the end of a typed array.
 *
 * @param size - must be in [1, 2^31).
 */
export function randomIndex(r: number, size: number): number {
  // `>>> 0` truncates and sends negatives to huge values, which the bound check clamps.
  const k = (r * size) >>> 0;
  return k < size ? k : size - 1;
}

/**
 * One number in [0, 1) from `random`. The default generator is read inline, so the call boxes
 * nothing on hot paths (the rule engine's weight and probability rolls).
 */
export function draw(random: RandomSource): number {
  return random === fastRandom ? next30() * TO_UNIT : random();
}

/**
 * A seeded {@link RandomSource} (xoshiro128**, seeded through splitmix32): the same seed gives
 * the same sequence, for reproducible tests, benchmarks and simulations.
 * Not cryptographically secure — it only spreads traffic.
 */
export function createRng(seed: number): RandomSource {
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
