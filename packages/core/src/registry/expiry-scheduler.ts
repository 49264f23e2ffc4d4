import type { Clock, TimerHandle } from '../clock/index.js';
import { type Expiring, ExpiryQueue } from './expiry-queue.js';

/**
 * An {@link ExpiryQueue} driven by one clock timer, armed for the earliest filed deadline —
 * never a timer per item, so 100 000 instances cost one pending timer.
 *
 * The owner can also expire on demand ({@link ExpiryScheduler.expireDue}) before each operation,
 * which keeps results exact at the deadline even when the real timer fires late.
 */
export class ExpiryScheduler<T extends Expiring> {
  private readonly queue = new ExpiryQueue<T>();
  private timer: TimerHandle | undefined;
  /** The deadline the timer is armed for; `Infinity` when not armed, `NaN` while it fires. */
  private timerAt = Number.POSITIVE_INFINITY;
  private stopped = false;
  /** Set during a drain, which re-arms once at its end rather than once per expired item. */
  private draining = false;

  /**
   * @param onExpired - receives each expired item, during a drain; it may call `remove` (a no-op
   *   then) but must not schedule items.
   * @param afterDrain - runs after each drain that expired something (to emit events outside the drain).
   */
  constructor(
    private readonly clock: Clock,
    private readonly onExpired: (item: T) => void,
    private readonly afterDrain: () => void,
  ) {}

  /** Items filed (some may have moved their deadline or stopped expiring since). */
  get size(): number {
    return this.queue.size;
  }

  /** Whether the timer is armed. */
  get armed(): boolean {
    return this.timer !== undefined;
  }

  /** Files `item` after it was added or its deadline moved earlier; later deadlines need no call. */
  schedule(item: T): void {
    this.queue.schedule(item);
    this.arm();
  }

  /** Unfiles `item`, disarming the timer when nothing is left (so an idle registry holds no timer). */
  remove(item: T): void {
    this.queue.remove(item);
    this.arm();
  }

  /** Expires whatever is due at the clock's current time, and returns that time. One comparison when nothing is. */
  expireDue(): number {
    const now = this.clock.now();
    if (now >= this.queue.peekKey()) this.drain(now);
    return now;
  }

  /** Disarms the timer and forgets every item, for good. */
  stop(): void {
    this.stopped = true;
    this.timer?.clear();
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    this.queue.clear();
  }

  private drain(now: number): void {
    this.draining = true;
    try {
      this.queue.drain(now, this.onExpired);
    } finally {
      this.draining = false;
    }
    this.arm();
    this.afterDrain();
  }

  /** Points the timer at the earliest filed deadline (or disarms it); a no-op when already there. */
  private arm(): void {
    const at = this.queue.peekKey();
    if (at === this.timerAt || this.stopped || this.draining) return;
    this.timer?.clear();
    this.timer = undefined;
    this.timerAt = at;
    if (at !== Number.POSITIVE_INFINITY) this.timer = this.clock.setTimeout(this.onTimer, at - this.clock.now());
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    // Forget the armed deadline so arm() re-arms even when the timer fired a little early.
    this.timerAt = Number.NaN;
    const now = this.clock.now();
    if (now >= this.queue.peekKey()) this.drain(now);
    else this.arm();
  };
}
