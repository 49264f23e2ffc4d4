import { InvalidArgumentError } from '../errors/index.js';

/**
 * Which endpoints may be picked: the ejection flags plus a compact, ascending list of the
 * eligible indices. Pickers choose from the list, so a pick costs the same whether 0 % or 99 % of
 * the endpoints are ejected.
 *
 * The list is rebuilt lazily — {@link EligibleSet.set} only marks it dirty and the next pick calls
 * {@link EligibleSet.refresh} — so ejecting k endpoints in a burst costs one O(n) rebuild, not k.
 * The rebuild writes into a buffer allocated up front, so it allocates nothing on the pick path.
 */
export class EligibleSet {
  /** 1 where the endpoint is ejected. */
  readonly ejected: Uint8Array;
  /** Eligible endpoint indices in ascending order; only the first {@link EligibleSet.size} are valid. */
  readonly list: Int32Array;
  /** Number of eligible endpoints (valid once {@link EligibleSet.dirty} is false). */
  size: number;
  /**
   * True when a pick must take its slow branch: flags changed since the last
   * {@link EligibleSet.refresh}, or the picker was {@link EligibleSet.pin}ned to it. One flag, so
   * the common case costs a pick a single check.
   */
  dirty = false;
  /** True when flags changed since the last {@link EligibleSet.refresh} (the list is out of date). */
  changed = false;
  /** Set by {@link EligibleSet.pin}: {@link EligibleSet.dirty} stays true. */
  private pinned = false;

  constructor(readonly capacity: number) {
    this.ejected = new Uint8Array(capacity);
    this.list = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.list[i] = i;
    this.size = capacity;
  }

  /**
   * Sets the ejection flag of `index`; returns whether it changed.
   *
   * @throws InvalidArgumentError when `index` is not an endpoint index (a caller bug worth surfacing).
   */
  set(index: number, ejected: boolean): boolean {
    if (!Number.isInteger(index) || index < 0 || index >= this.capacity) {
      throw new InvalidArgumentError('setEjected() call', [
        { path: 'index', message: `must be an integer in [0, ${this.capacity}) (got ${String(index)})` },
      ]);
    }
    const flag = ejected ? 1 : 0;
    if (this.ejected[index] === flag) return false;
    this.ejected[index] = flag;
    this.changed = true;
    this.dirty = true;
    return true;
  }

  /** True when `index` is ejected (false for indices out of range). */
  isEjected(index: number): boolean {
    return this.ejected[index] === 1;
  }

  /** Rebuilds {@link EligibleSet.list} from the flags. */
  refresh(): void {
    const { ejected, list } = this;
    let size = 0;
    for (let i = 0; i < this.capacity; i++) if (ejected[i] === 0) list[size++] = i;
    this.size = size;
    this.changed = false;
    this.dirty = this.pinned;
  }

  /**
   * Keeps {@link EligibleSet.dirty} true from now on, so every pick takes the slow branch (a
   * load-aware picker whose loads a newer picker adopted reads them through their objects).
   */
  pin(): void {
    this.pinned = true;
    this.dirty = true;
  }
}
