/** Sums within this distance of 1 count as exactly 1 (0.1 + 0.2 + 0.7 is not "more than 1"). */
const EPSILON = 1e-9;

/** How a route's backend weights were turned into traffic shares. */
export interface WeightPlan {
  /** Share of traffic per backend, in input order; sums to 1. */
  readonly shares: readonly number[];
  /** Sum of the explicit weights as written. */
  readonly explicitSum: number;
  /** Number of backends without a weight. */
  readonly unweighted: number;
  /**
   * What normalisation did: `none` (explicit weights sum to 1, or the remainder went to
   * unweighted backends), `scaled_down` (explicit sum > 1: scaled to 1, unweighted get 0),
   * `scaled_up` (explicit sum < 1 and no unweighted backend: scaled to 1).
   */
  readonly adjustment: 'none' | 'scaled_down' | 'scaled_up';
}

/**
 * Turns Amalgam8 backend weights into traffic shares that sum to 1 — the behaviour Amalgam8
 * left undefined. With `W` the sum of the explicit weights and `U` the number of backends
 * without a weight:
 *
 * - `W > 1`: explicit weights are divided by `W`; unweighted backends get 0.
 * - `W ≤ 1`, `U > 0`: explicit weights stay; unweighted backends share `1 − W` equally (0 when `W = 1`).
 * - `W < 1`, `U = 0`: explicit weights are divided by `W` (the traffic of a matched rule must go somewhere).
 * - `W = 0`, `U = 0`: rejected by validation (a route needs a backend that receives traffic).
 *
 * A single backend gets everything, whatever its weight.
 */
export function planWeights(weights: readonly (number | undefined)[]): WeightPlan {
  let explicitSum = 0;
  let unweighted = 0;
  for (const w of weights) {
    if (w === undefined) unweighted++;
    else explicitSum += w;
  }
  if (weights.length === 1) return { shares: [1], explicitSum, unweighted, adjustment: 'none' };
  let adjustment: WeightPlan['adjustment'] = 'none';
  let scale = 1;
  let rest = 0;
  if (explicitSum > 1) {
    scale = 1 / explicitSum;
    if (explicitSum > 1 + EPSILON) adjustment = 'scaled_down';
  } else if (unweighted > 0) {
    // A remainder below EPSILON is rounding noise: such backends get exactly 0, not 1e-12 of the traffic.
    rest = 1 - explicitSum < EPSILON ? 0 : (1 - explicitSum) / unweighted;
  } else if (explicitSum > 0 && explicitSum < 1) {
    scale = 1 / explicitSum;
    if (explicitSum < 1 - EPSILON) adjustment = 'scaled_up';
  }
  const shares = weights.map((w) => (w === undefined ? rest : w * scale));
  return { shares, explicitSum, unweighted, adjustment };
}

/**
 * Cumulative distribution of `shares` for a weighted draw: draw `r` in [0, 1) and take the first
 * index whose bound exceeds `r`. The last backend with a non-zero share gets bound exactly 1, so
 * rounding can neither leave a gap nor hand traffic to a zero-share backend.
 */
export function cumulativeBounds(shares: readonly number[]): Float64Array {
  const bounds = new Float64Array(shares.length);
  let lastNonZero = -1;
  let acc = 0;
  for (let i = 0; i < shares.length; i++) {
    const s = shares[i] ?? 0;
    acc += s;
    bounds[i] = acc;
    if (s > 0) lastNonZero = i;
  }
  if (lastNonZero >= 0) for (let i = lastNonZero; i < bounds.length; i++) bounds[i] = 1;
  return bounds;
}

/** The largest double below 1. */
const MAX_BELOW_ONE = 1 - Number.EPSILON / 2;

/**
 * Index of the backend a draw `r` in [0, 1) selects from {@link cumulativeBounds}. A misbehaving
 * RNG (1, negative, NaN) is clamped into [0, 1), so it can never select a zero-share backend.
 */
export function pickByBounds(bounds: Float64Array, r: number): number {
  const x = r >= 0 ? (r < 1 ? r : MAX_BELOW_ONE) : 0; // NaN fails r >= 0
  const last = bounds.length - 1;
  for (let i = 0; i < last; i++) if (x < (bounds[i] as number)) return i;
  return last;
}
