import type { ServiceInstance } from '../model/index.js';
import type { Subscription } from '../registry/types.js';
import type { Source, SourceObserver, SourceSnapshot } from './source.js';

/**
 * A {@link Source} whose catalogue is set by code: static endpoint lists (external services,
 * a config file), and tests that need to drive Discovery through updates and failures.
 */
export class ManualSource implements Source {
  private snapshot: SourceSnapshot | undefined;
  private failure: Error | undefined;
  private readonly observers = new Set<SourceObserver>();

  /** @param instances - the initial catalogue; omit it to start with no snapshot at all. */
  constructor(
    readonly name = 'manual',
    instances?: readonly ServiceInstance[],
  ) {
    if (instances !== undefined) this.snapshot = { instances: Object.freeze([...instances]), revision: 1 };
  }

  /** Number of current subscribers. */
  get subscriberCount(): number {
    return this.observers.size;
  }

  /** Replaces the whole catalogue and tells every subscriber. */
  set(instances: readonly ServiceInstance[]): void {
    const revision = typeof this.snapshot?.revision === 'number' ? this.snapshot.revision + 1 : 1;
    this.snapshot = { instances: Object.freeze([...instances]), revision };
    this.failure = undefined;
    for (const o of this.observers) o.next(this.snapshot);
  }

  /** Reports a failure to every subscriber, as a broken connection would. */
  fail(error: Error): void {
    this.failure = error;
    for (const o of this.observers) o.error(error);
  }

  subscribe(observer: SourceObserver): Subscription {
    this.observers.add(observer);
    if (this.snapshot !== undefined) observer.next(this.snapshot);
    if (this.failure !== undefined) observer.error(this.failure);
    const unsubscribe = (): void => {
      this.observers.delete(observer);
    };
    return { unsubscribe, [Symbol.dispose]: unsubscribe };
  }
}
