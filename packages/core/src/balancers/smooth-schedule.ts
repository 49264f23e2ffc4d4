/**
 * nginx's smooth weighted round robin, computed without touching every endpoint on every pick.
 *
 * nginx keeps a `current` value per peer; each pick adds every peer's weight to its `current`,
 * picks the peer with the largest `current` (the first one on ties) and subtracts the total weight
 * from it. That is O(n) per pick — about 1 µs at 1 000 endpoints. Two observations make it cheap
 * while producing exactly the same sequence:
 *
 * 1. Endpoints with equal weights form a *class*. Inside a class nginx always picks the member
 *    picked least often, lowest index first — plain round robin. After `t` steps the class's best
 *    member has `current = t·w − W·rounds`, so a class is one line `t·w + base` and a pick only
 *    moves its class's cursor (and lowers `base` by W when the cursor wraps).
 * 2. The pick is the highest line at step `t`. With few classes (the common case: one to a handful
 *    of distinct weights) a scan is fastest. With many, a *kinetic tournament* keeps the winner of
 *    every subtree plus the first step at which that winner could be overtaken (lines with a
 *    steeper slope catch up); a pick re-plays only expired subtrees and the changed leaf's path.
 *
 * `base` is periodically rebased so `t·w` stays an exact integer for integer weights.
 */

/**
 * Up to this many classes a linear scan (≈1 ns a class) beats the tournament (≈20 ns a level,
 * one division each); measured crossover on Node 24 is between 32 and 64 classes.
 */
const SCAN_LIMIT = 32;
/** Rebase after this many steps: keeps t·w below 2^53 for weights up to 2^29. */
const REBASE_AFTER = 1 << 24;

/** The schedule behind {@link WeightedRoundRobinPicker}; see the file comment. */
export class SmoothSchedule {
  /** Class of each endpoint (classes = distinct weights, fixed at construction). */
  private readonly classOf: Int32Array;
  /** Weight of each class. */
  private readonly classWeight: Float64Array;
  /** Scratch: eligible members per class, then the class's active slot. */
  private readonly scratch: Int32Array;

  // Active classes (those with an eligible member), in slots 0..active-1.
  private active = 0;
  private readonly weight: Float64Array;
  private readonly start: Int32Array;
  private readonly size: Int32Array;
  private readonly cursor: Int32Array;
  private readonly base: Float64Array;
  /** Eligible endpoints grouped by active slot, ascending inside a slot. */
  private readonly members: Int32Array;
  private total = 0;
  private step = 0;

  // Kinetic tournament over active slots: node 1 is the root, leaves start at `leaves`.
  private leaves = 0;
  private readonly winner: Int32Array;
  private readonly expiry: Float64Array;

  /**
   * @param weights - every endpoint's weight (validated: finite, > 0).
   * @param scanLimit - most classes handled by scanning; more use the tournament. Tests lower it
   *   to exercise the tournament on small inputs.
   */
  constructor(
    weights: Float64Array,
    private readonly scanLimit = SCAN_LIMIT,
  ) {
    const n = weights.length;
    this.classOf = new Int32Array(n);
    const ids = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const w = weights[i] as number;
      let c = ids.get(w);
      if (c === undefined) {
        c = ids.size;
        ids.set(w, c);
      }
      this.classOf[i] = c;
    }
    const classes = ids.size;
    this.classWeight = new Float64Array(classes);
    for (const [w, c] of ids) this.classWeight[c] = w;
    this.scratch = new Int32Array(classes);
    this.weight = new Float64Array(classes);
    this.start = new Int32Array(classes);
    this.size = new Int32Array(classes);
    this.cursor = new Int32Array(classes);
    this.base = new Float64Array(classes);
    this.members = new Int32Array(n);
    let leaves = 1;
    while (leaves < classes) leaves *= 2;
    const nodes = classes > scanLimit ? 2 * leaves : 0;
    this.winner = new Int32Array(nodes);
    this.expiry = new Float64Array(nodes);
  }

  /**
   * Restarts the schedule over the eligible endpoints `list[0..count)` (ascending). Allocates
   * nothing, so it may run lazily on the pick path after an ejection change.
   */
  load(list: Int32Array, count: number): void {
    const { classOf, classWeight, scratch } = this;
    scratch.fill(0);
    for (let k = 0; k < count; k++) {
      const c = classOf[list[k] as number] as number;
      scratch[c] = (scratch[c] as number) + 1;
    }
    // Compact the classes that have eligible members into slots; scratch becomes class → slot.
    let active = 0;
    let offset = 0;
    let total = 0;
    for (let c = 0; c < scratch.length; c++) {
      const members = scratch[c] as number;
      if (members === 0) {
        scratch[c] = -1;
        continue;
      }
      const w = classWeight[c] as number;
      this.weight[active] = w;
      this.start[active] = offset;
      this.size[active] = 0; // counts up again while members are placed below
      this.cursor[active] = 0;
      this.base[active] = 0;
      total += w * members;
      offset += members;
      scratch[c] = active++;
    }
    for (let k = 0; k < count; k++) {
      const i = list[k] as number;
      const slot = scratch[classOf[i] as number] as number;
      const placed = this.size[slot] as number;
      this.members[(this.start[slot] as number) + placed] = i;
      this.size[slot] = placed + 1;
    }
    this.active = active;
    this.total = total;
    this.step = 0;
    this.leaves = 0;
    if (active > this.scanLimit) this.buildTournament();
  }

  /** The next endpoint index. Requires at least one eligible endpoint (see {@link load}). */
  next(): number {
    if (this.step >= REBASE_AFTER) this.rebase();
    const t = ++this.step;
    let j: number;
    if (this.leaves === 0) {
      j = this.scan(t);
    } else {
      if ((this.expiry[1] as number) <= t) this.refresh(1, t);
      j = this.winner[1] as number;
    }
    const c = this.cursor[j] as number;
    const picked = this.members[(this.start[j] as number) + c] as number;
    if (c + 1 === this.size[j]) {
      // Every member of the class has had its turn: the class's best `current` drops by W.
      this.cursor[j] = 0;
      this.base[j] = (this.base[j] as number) - this.total;
    } else {
      this.cursor[j] = c + 1;
    }
    if (this.leaves !== 0) {
      for (let node = (this.leaves + j) >> 1; node > 0; node >>= 1) this.compete(node, t + 1);
    }
    return picked;
  }

  /** The slot with the highest line at step `t`; ties go to the lower endpoint index, as in nginx. */
  private scan(t: number): number {
    const { weight, base } = this;
    let best = 0;
    let bestValue = t * (weight[0] as number) + (base[0] as number);
    for (let j = 1; j < this.active; j++) {
      const v = t * (weight[j] as number) + (base[j] as number);
      if (v > bestValue || (v === bestValue && this.candidate(j) < this.candidate(best))) {
        best = j;
        bestValue = v;
      }
    }
    return best;
  }

  /** The endpoint a slot would give next (its tie-breaker). */
  private candidate(j: number): number {
    return this.members[(this.start[j] as number) + (this.cursor[j] as number)] as number;
  }

  private buildTournament(): void {
    let leaves = 1;
    while (leaves < this.active) leaves *= 2;
    this.leaves = leaves;
    for (let j = 0; j < leaves; j++) {
      this.winner[leaves + j] = j < this.active ? j : -1;
      this.expiry[leaves + j] = Number.POSITIVE_INFINITY;
    }
    for (let node = leaves - 1; node > 0; node--) this.compete(node, 1);
  }

  /** Re-plays every subtree of `node` whose winner may have changed by step `t`. */
  private refresh(node: number, t: number): void {
    if (node >= this.leaves) return;
    const left = 2 * node;
    if ((this.expiry[left] as number) <= t) this.refresh(left, t);
    if ((this.expiry[left + 1] as number) <= t) this.refresh(left + 1, t);
    this.compete(node, t);
  }

  /**
   * Decides `node`'s winner at step `t` from its children's winners and records the first step at
   * which that could change: the children's own expiries, or when the loser's steeper line catches
   * up. The catch-up step is rounded down, so the check may come a step early but never late.
   */
  private compete(node: number, t: number): void {
    const { winner, expiry, weight, base } = this;
    const a = winner[2 * node] as number;
    const b = winner[2 * node + 1] as number;
    let until = Math.min(expiry[2 * node] as number, expiry[2 * node + 1] as number);
    if (a < 0 || b < 0) {
      winner[node] = a < 0 ? b : a;
      expiry[node] = until;
      return;
    }
    const va = t * (weight[a] as number) + (base[a] as number);
    const vb = t * (weight[b] as number) + (base[b] as number);
    const aWins = va > vb || (va === vb && this.candidate(a) < this.candidate(b));
    const win = aWins ? a : b;
    const lose = aWins ? b : a;
    const gain = (weight[lose] as number) - (weight[win] as number);
    if (gain > 0) {
      const at = t + Math.max(1, Math.floor((aWins ? va - vb : vb - va) / gain));
      if (at < until) until = at;
    }
    winner[node] = win;
    expiry[node] = until;
  }

  /** Moves step 0 to now, preserving every line's value, so products stay exact. */
  private rebase(): void {
    const t = this.step;
    for (let j = 0; j < this.active; j++) this.base[j] = (this.base[j] as number) + t * (this.weight[j] as number);
    if (this.leaves !== 0)
      for (let node = 1; node < 2 * this.leaves; node++) this.expiry[node] = (this.expiry[node] as number) - t;
    this.step = 0;
  }
}
