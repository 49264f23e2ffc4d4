import { asError, WarnOnce } from '../internal/log.js';
import { WatchHealth } from '../internal/watch-health.js';
import type { KubeApi } from './client.js';
import type { ReflectorOptions } from './reflector.js';

/** What a {@link WatchLoop} needs of its source's resolved options. */
export type WatchLoopOptions = Pick<
  ReflectorOptions,
  'watchTimeoutSeconds' | 'pageSize' | 'backoff' | 'logger' | 'clock'
>;

/** The part of a source's observer a {@link WatchLoop} reports to. */
export interface WatchLoopObserver {
  error(error: Error): void;
}

/**
 * One subscription of a Kubernetes source (EndpointSlices, `Rule` objects): waits for the API
 * client, has the subclass start its reflectors ({@link startReflectors}, with
 * {@link reflectorOptions}), and turns a burst of their changes into one {@link emit} per tick.
 * `stop()` ends every reflector: they share the loop's abort signal.
 */
export abstract class WatchLoop<
  Api extends KubeApi,
  Options extends WatchLoopOptions,
  Observer extends WatchLoopObserver,
> {
  protected readonly abort = new AbortController();
  protected readonly warnings: WarnOnce;
  private emitQueued = false;

  constructor(
    api: Promise<Api>,
    protected readonly options: Options,
    protected readonly source: string,
    protected readonly observer: Observer,
  ) {
    this.warnings = new WarnOnce(options.logger);
    // `start` awaits the client before calling the subclass, so the subclass's fields are set by then.
    void this.start(api);
  }

  stop(): void {
    this.abort.abort();
  }

  /** Starts the reflectors of this subscription, once the client is there (and unless stopped meanwhile). */
  protected abstract startReflectors(api: Api): void;

  /** Reports the current state (called at most once a tick, never after `stop()`). */
  protected abstract emit(): void;

  /**
   * Options for this loop's reflectors: one {@link WatchHealth} for all of them, so an outage makes
   * one failure streak (one warning) whatever number of reflectors it stops.
   */
  protected reflectorOptions(object: string): ReflectorOptions {
    return {
      source: this.source,
      watchTimeoutSeconds: this.options.watchTimeoutSeconds,
      pageSize: this.options.pageSize,
      backoff: this.options.backoff,
      logger: this.options.logger,
      clock: this.options.clock,
      signal: this.abort.signal,
      health: new WatchHealth({
        source: this.source,
        object,
        logger: this.options.logger,
        clock: this.options.clock,
        onError: (error) => this.observer.error(error),
      }),
    };
  }

  /** Reports the current state after the events of this tick (a burst of events makes one report). */
  protected scheduleEmit(): void {
    if (this.emitQueued) return;
    this.emitQueued = true;
    queueMicrotask(() => {
      this.emitQueued = false;
      if (!this.abort.signal.aborted) this.emit();
    });
  }

  private async start(apiPromise: Promise<Api>): Promise<void> {
    let api: Api;
    try {
      api = await apiPromise;
    } catch (err) {
      if (!this.abort.signal.aborted) this.observer.error(asError(err));
      return;
    }
    if (this.abort.signal.aborted) return;
    this.startReflectors(api);
  }
}
