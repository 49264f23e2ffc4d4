import type { ValidationIssue } from '../errors/index.js';
import { defaultRandom, type RandomSource, randomInt } from '../random/rng.js';
import { BasePicker } from './base-picker.js';
import { hashString } from './hash.js';
import { idOrder } from './id-order.js';
import type { RandomOptions } from './options.js';
import type { BalancerEndpoint } from './picker.js';
import type { BalancerPolicy } from './policy.js';
import { isPrime, nextPrime } from './primes.js';
import { checkFunction, checkIds, readWeights, throwIfInvalid } from './validate.js';

/** Options of {@link MaglevPicker}. */
export interface MaglevOptions extends RandomOptions {
  /**
   * Lookup table size: a prime ≥ the number of endpoints. Default 65 537 (Envoy's), or for more
   * than 6 553 endpoints the smallest prime ≥ 10 × their number, so each keeps ~10 entries or
   * more. Bigger tables balance more finely and disrupt less on changes, at 4 bytes an entry.
   */
  tableSize?: number | undefined;
}

/** Default table size (Envoy's and the Maglev paper's small table). */
const DEFAULT_TABLE_SIZE = 65_537;
/** Seeds of the two independent endpoint-id hashes that give each permutation. */
const OFFSET_SEED = 0x2c1b3c6d;
const SKIP_SEED = 0x297a2d39;
/** 2^-32: maps a 32-bit hash onto [0, tableSize) by a multiply, cheaper than an integer `%`. */
const TO_UNIT = 2 ** -32;

/**
 * Google's Maglev consistent hashing (Eisenbud et al., NSDI 2016): each endpoint walks its own
 * permutation of a prime-sized table (`offset + j·skip mod M`, offset and skip from two hashes of
 * its id) and the endpoints take turns claiming their next free slot until the table is full.
 * A key's endpoint is then one table read, so lookups cost the key's hash plus a load; equal
 * weights get ⌊M/N⌋ or ⌈M/N⌉ slots each, and removing an endpoint moves little more than its share.
 *
 * Weights follow Envoy: in round k an endpoint claims a slot only while
 * `k × weight/maxWeight` has caught up with the slots it already holds.
 * An ejected owner passes the key to the next table slot whose owner is not ejected; with no key
 * the pick is random among the eligible endpoints.
 */
export class MaglevPicker<E extends BalancerEndpoint = BalancerEndpoint> extends BasePicker<E> {
  /** Always `maglev`. */
  readonly policy = 'maglev' as const;
  /** Number of slots in the lookup table (a prime). */
  readonly tableSize: number;
  private readonly random: RandomSource;
  /** Endpoint index of each slot (-1 only when there are no endpoints). */
  private readonly table: Int32Array;

  /**
   * @throws InvalidArgumentError naming `endpoints[i].weight`, `endpoints[i].id`, `tableSize` or
   *   `random` when invalid.
   */
  constructor(endpoints: readonly E[], options: MaglevOptions = {}) {
    const issues: ValidationIssue[] = [];
    const weights = readWeights(endpoints, issues);
    checkIds(endpoints, issues);
    checkFunction(options.random, 'random', issues);
    const n = endpoints.length;
    const size = options.tableSize ?? (n * 10 > DEFAULT_TABLE_SIZE ? nextPrime(n * 10) : DEFAULT_TABLE_SIZE);
    if (!isPrime(size) || size < n || size >= 2 ** 31) {
      issues.push({
        path: 'tableSize',
        message: `must be a prime ≥ the number of endpoints (${n}) and < 2^31 (got ${String(options.tableSize)})`,
      });
    }
    throwIfInvalid('maglev picker', issues);
    super(endpoints);
    this.random = options.random ?? defaultRandom;
    this.tableSize = size;
    this.table = populate(endpoints, weights, size);
  }

  /**
   * Index of the endpoint owning `hashKey`'s slot, the owner of the next slot that is not ejected
   * when that one is, a random eligible endpoint when there is no key, or -1 when none is eligible.
   */
  pickIndex(hashKey?: string): number {
    const eligible = this.eligible;
    if (eligible.dirty) eligible.refresh();
    if (eligible.size === 0) return -1;
    if (hashKey === undefined) return eligible.list[randomInt(this.random, eligible.size)] as number;
    // h·M < 2^63, and the float product's error cannot reach the next integer: exact enough.
    const slot = (hashString(hashKey, 0) * this.tableSize * TO_UNIT) >>> 0;
    const owner = this.table[slot] as number;
    return eligible.ejected[owner] === 0 ? owner : this.walk(slot);
  }

  /** The endpoint for `hashKey` (see {@link MaglevPicker.pickIndex}), or undefined when none is eligible. */
  pick(hashKey?: string): E | undefined {
    const i = this.pickIndex(hashKey);
    return i < 0 ? undefined : this.endpoints[i];
  }

  /** How many table slots each endpoint owns (for diagnostics and balance checks). */
  slotCounts(): Int32Array {
    const counts = new Int32Array(this.endpoints.length);
    for (const owner of this.table) if (owner >= 0) counts[owner] = (counts[owner] as number) + 1;
    return counts;
  }

  /** The first owner after slot `from` that is not ejected (cold path). */
  private walk(from: number): number {
    const { table, tableSize } = this;
    const ejected = this.eligible.ejected;
    let slot = from;
    for (let step = 1; step < tableSize; step++) {
      slot = slot + 1 === tableSize ? 0 : slot + 1;
      const owner = table[slot] as number;
      if (ejected[owner] === 0) return owner;
    }
    return -1;
  }
}

/** `maglev`: {@link MaglevPicker}. An ejected endpoint's keys go to the next slots' owners meanwhile. */
export const maglevPolicy: BalancerPolicy<'maglev', MaglevOptions> = {
  name: 'maglev',
  usesHashKey: true,
  wantsLatency: false,
  create: (endpoints, options) => new MaglevPicker(endpoints, options),
};

/** Fills a Maglev lookup table of prime size `size` (≥ endpoints.length). */
function populate(endpoints: readonly BalancerEndpoint[], weights: Float64Array, size: number): Int32Array {
  const n = endpoints.length;
  const table = new Int32Array(size).fill(-1);
  if (n === 0) return table;
  const next = new Int32Array(n); // each endpoint's next candidate slot in its permutation
  const skip = new Int32Array(n);
  let maxWeight = 0;
  for (const w of weights) if (w > maxWeight) maxWeight = w;
  const share = new Float64Array(n); // weight / maxWeight
  const claimed = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const id = (endpoints[i] as BalancerEndpoint).id;
    next[i] = hashString(id, OFFSET_SEED) % size;
    skip[i] = (hashString(id, SKIP_SEED) % (size - 1)) + 1;
    share[i] = (weights[i] as number) / maxWeight;
  }
  // Endpoints take turns in id order: slot contention then resolves the same way whatever order
  // the endpoints were given in.
  const order = idOrder(endpoints);
  let filled = 0;
  for (let round = 1; filled < size; round++) {
    for (let turn = 0; turn < n && filled < size; turn++) {
      const i = order[turn] as number;
      // A lighter endpoint sits out rounds until its weighted quota catches up with its claims.
      if (round * (share[i] as number) < (claimed[i] as number)) continue;
      claimed[i] = (claimed[i] as number) + 1;
      const step = skip[i] as number;
      let slot = next[i] as number;
      while ((table[slot] as number) >= 0) {
        slot += step;
        if (slot >= size) slot -= size;
      }
      table[slot] = i;
      filled++;
      slot += step;
      next[i] = slot >= size ? slot - size : slot;
    }
  }
  return table;
}
