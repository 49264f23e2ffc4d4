import type { ValidationIssue } from '../errors/index.js';
import { defaultRandom, type RandomSource, randomInt } from '../random/rng.js';
import { BasePicker } from './base-picker.js';
import { hashString } from './hash.js';
import { idOrder } from './id-order.js';
import type { RandomOptions } from './options.js';
import type { BalancerEndpoint } from './picker.js';
import type { BalancerPolicy } from './policy.js';
import { checkFunction, checkIds, checkNumber, readWeights, throwIfInvalid } from './validate.js';

/** Options of {@link RingHashPicker}. */
export interface RingHashOptions extends RandomOptions {
  /**
   * Ring points per unit of weight (default 256): an endpoint of weight w gets `round(w × this)`
   * points, at least one. Its points depend only on its own id and weight, so adding or removing
   * an endpoint moves only the keys that land on that endpoint's points. More points give smoother
   * shares (an endpoint's share varies by about 1/√points) at the cost of memory and build time.
   */
  replicasPerWeight?: number | undefined;
  /**
   * Smallest ring (default 512). A smaller ring is scaled up to this many points, which helps tiny
   * sets with fractional weights balance but changes every endpoint's point count, so the default
   * stays at what two default-weight endpoints already have.
   */
  minRingSize?: number | undefined;
  /** Largest ring (default 1 048 576 = 8 MiB of ring): larger ones are scaled down to it. */
  maxRingSize?: number | undefined;
}

/**
 * A ring entry packs a 32-bit point above a 21-bit number (an id rank while sorting, then the
 * endpoint index) in one float64's 53 exact bits: one native numeric sort orders the ring.
 */
const INDEX_SPACE = 2 ** 21;
const INDEX_SCALE = 2 ** -21;
/** At most 2^16 buckets: the index stays at 256 KiB and buckets average a few points. */
const MAX_BUCKET_BITS = 16;

/**
 * Consistent hashing on a ketama-style ring: each endpoint owns points `murmur3(id, seed = r)` for
 * its replicas r, and a key goes to the owner of the first point at or after `murmur3(key)`
 * (wrapping). Removing one of N endpoints moves only its ~1/N share of keys.
 *
 * Lookup is a binary search over the sorted ring (a `Float64Array` of packed point + owner),
 * narrowed first by a bucket index on the hash's top bits so it touches a handful of adjacent
 * entries instead of log2(ring) scattered ones.
 * An ejected owner passes the key to the next point's owner that is not ejected; with no key the
 * pick is random among the eligible endpoints.
 */
export class RingHashPicker<E extends BalancerEndpoint = BalancerEndpoint> extends BasePicker<E> {
  /** Always `ring_hash`. */
  readonly policy = 'ring_hash' as const;
  /** Number of points on the ring. */
  readonly ringSize: number;
  private readonly random: RandomSource;
  /**
   * The ring, sorted: each entry is `point · 2^21 + owner index`, so one 8-byte load (one cache
   * line) yields both the point to compare and its owner — with separate arrays a lookup on a
   * large ring pays two cache misses instead of one.
   */
  private readonly ring: Float64Array;
  /** `buckets[b]` = first point ≥ b·2^shift; `buckets[2^bits]` = ring size. */
  private readonly buckets: Int32Array;
  private readonly shift: number;

  /**
   * @throws InvalidArgumentError naming `endpoints[i].weight`, `endpoints[i].id`,
   *   `replicasPerWeight`, `minRingSize`, `maxRingSize` or `random` when invalid.
   */
  constructor(endpoints: readonly E[], options: RingHashOptions = {}) {
    const issues: ValidationIssue[] = [];
    const weights = readWeights(endpoints, issues);
    checkIds(endpoints, issues);
    checkNumber(options.replicasPerWeight, 'replicasPerWeight', issues, { min: 0, exclusive: true });
    checkNumber(options.minRingSize, 'minRingSize', issues, { min: 1, integer: true });
    checkNumber(options.maxRingSize, 'maxRingSize', issues, { min: options.minRingSize ?? 1, integer: true });
    checkFunction(options.random, 'random', issues);
    if (endpoints.length > INDEX_SPACE) {
      issues.push({ path: 'endpoints', message: `at most ${INDEX_SPACE} endpoints (got ${endpoints.length})` });
    }
    throwIfInvalid('ring_hash picker', issues);
    super(endpoints);
    this.random = options.random ?? defaultRandom;

    const counts = pointCounts(weights, options);
    let size = 0;
    for (const c of counts) size += c;
    // Each point is packed with its endpoint's rank by id, so one native numeric sort orders the
    // ring by point and breaks (rare) equal points by id, whatever order the endpoints came in.
    const order = idOrder(endpoints);
    const packed = new Float64Array(size);
    let k = 0;
    for (let rank = 0; rank < order.length; rank++) {
      const i = order[rank] as number;
      const id = (endpoints[i] as E).id;
      for (let r = 0; r < (counts[i] as number); r++) packed[k++] = hashString(id, r) * INDEX_SPACE + rank;
    }
    packed.sort();
    // Swap each rank for the endpoint index; the order (already decided) does not change.
    for (let p = 0; p < size; p++) {
      const v = packed[p] as number;
      const point = Math.floor(v * INDEX_SCALE);
      packed[p] = point * INDEX_SPACE + (order[v - point * INDEX_SPACE] as number);
    }
    this.ringSize = size;
    this.ring = packed;
    const bits = Math.max(1, Math.min(MAX_BUCKET_BITS, Math.floor(Math.log2(Math.max(2, size)))));
    this.shift = 32 - bits;
    this.buckets = new Int32Array((1 << bits) + 1);
    let first = 0;
    for (let b = 0; b < 1 << bits; b++) {
      const lower = b * 2 ** this.shift;
      while (first < size && (packed[first] as number) < lower * INDEX_SPACE) first++;
      this.buckets[b] = first;
    }
    this.buckets[1 << bits] = size;
  }

  /**
   * Index of the endpoint owning `hashKey`, the next eligible owner on the ring when that one is
   * ejected, a random eligible endpoint when there is no key, or -1 when none is eligible.
   */
  pickIndex(hashKey?: string): number {
    const eligible = this.eligible;
    if (eligible.dirty) eligible.refresh();
    if (eligible.size === 0) return -1;
    if (hashKey === undefined) return eligible.list[randomInt(this.random, eligible.size)] as number;
    const h = hashString(hashKey, 0);
    const ring = this.ring;
    const target = h * INDEX_SPACE; // below every entry of point h, above every smaller point
    let lo = this.buckets[h >>> this.shift] as number;
    let hi = this.buckets[(h >>> this.shift) + 1] as number;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((ring[mid] as number) < target) lo = mid + 1;
      else hi = mid;
    }
    // `lo` is the first point ≥ h: in this bucket, or else the first of the next non-empty one.
    if (lo === this.ringSize) lo = 0;
    const owner = ownerOf(ring[lo] as number);
    return eligible.ejected[owner] === 0 ? owner : this.walk(lo);
  }

  /** The endpoint for `hashKey` (see {@link RingHashPicker.pickIndex}), or undefined when none is eligible. */
  pick(hashKey?: string): E | undefined {
    const i = this.pickIndex(hashKey);
    return i < 0 ? undefined : this.endpoints[i];
  }

  /** The first owner after ring position `from` that is not ejected (cold path). */
  private walk(from: number): number {
    const { ring, ringSize } = this;
    const ejected = this.eligible.ejected;
    let p = from;
    for (let step = 1; step < ringSize; step++) {
      p = p + 1 === ringSize ? 0 : p + 1;
      const owner = ownerOf(ring[p] as number);
      if (ejected[owner] === 0) return owner;
    }
    return -1;
  }
}

/** `ring_hash`: {@link RingHashPicker}. An ejected endpoint's keys go to the next owners meanwhile. */
export const ringHashPolicy: BalancerPolicy<'ring_hash', RingHashOptions> = {
  name: 'ring_hash',
  usesHashKey: true,
  wantsLatency: false,
  create: (endpoints, options) => new RingHashPicker(endpoints, options),
};

/** The owner index packed in a ring entry (exact: scaling by a power of two loses nothing). */
function ownerOf(entry: number): number {
  return entry - Math.floor(entry * INDEX_SCALE) * INDEX_SPACE;
}

/** Points per endpoint: weight × replicasPerWeight, rescaled into [minRingSize, maxRingSize]. */
function pointCounts(weights: Float64Array, options: RingHashOptions): Int32Array {
  let total = 0;
  for (const w of weights) total += w;
  let scale = options.replicasPerWeight ?? 256;
  // An explicit maximum below the default minimum lowers the minimum rather than being ignored.
  const min = options.minRingSize ?? Math.min(512, options.maxRingSize ?? 512);
  const max = Math.max(min, options.maxRingSize ?? 1 << 20);
  if (total * scale < min) scale = min / total;
  if (total * scale > max) scale = max / total;
  const counts = new Int32Array(weights.length);
  for (let i = 0; i < weights.length; i++) counts[i] = Math.max(1, Math.round((weights[i] as number) * scale));
  return counts;
}
