import { type Clock, systemClock, type TimerHandle } from '../clock/index.js';
import { InvalidArgumentError, type ValidationIssue } from '../errors/index.js';
import { invoke } from './abort.js';
import { Emitter, type Event } from './event.js';
import { type Classifier, defaultClassifier, isServerError } from './outcome.js';
import type { Policy, PolicyFn } from './policy.js';
import { RetryBudget } from './retry-budget.js';

/** Options of a {@link HedgePolicy}. */
export interface HedgeOptions {
  /** Wait before sending a hedged copy — typically the upstream's p95 latency. */
  delayMs: number;
  /** Extra copies at most, >= 1. Default 1. */
  maxHedges?: number;
  /**
   * Extra load hedging may add, as a % of calls over the last 10 s. Default 10. Hedges beyond it
   * are not sent: under an overload every call is slow, and hedging all of them would double it.
   */
  maxExtraLoadPercent?: number;
  /** Maps values and errors to outcomes: a 5xx or local failure does not win the race. */
  classify?: Classifier;
  /** Called with the value of every attempt that lost (cancel its body, say). */
  onDiscard?: (result: unknown) => void;
  /** Default {@link systemClock}. */
  clock?: Clock;
}

/** Emitted by {@link HedgePolicy.onHedge}. */
export interface HedgeEvent {
  /** 1 for the first hedged copy. */
  readonly hedge: number;
  /** `delay`: the previous attempts were slow; `failure`: one failed fast. */
  readonly trigger: 'delay' | 'failure';
}

const HEDGE_LOST = 'hedge lost: another attempt won';

/**
 * Hedged requests, for idempotent calls only: if the call has not succeeded after `delayMs`,
 * a copy is sent (up to `maxHedges`) and the first success wins; the others are aborted through
 * their `context.signal`. An attempt that fails fast also triggers the next copy at once (as
 * Polly does), so one bad endpoint does not cost the full delay. When every attempt fails, the
 * last failure is returned (or thrown). Copies are bounded by an extra-load budget.
 */
export class HedgePolicy implements Policy {
  /** Delay before each copy. */
  readonly delayMs: number;
  /** Copies at most per call. */
  readonly maxHedges: number;
  private readonly budget: RetryBudget;
  private readonly classify: Classifier;
  private readonly onDiscard: ((result: unknown) => void) | undefined;
  private readonly clock: Clock;
  private readonly hedgeEmitter = new Emitter<HedgeEvent>();

  /** Fires when a hedged copy is sent. */
  readonly onHedge: Event<HedgeEvent> = this.hedgeEmitter.event;

  constructor(options: HedgeOptions) {
    const issues: ValidationIssue[] = [];
    const maxHedges = options.maxHedges ?? 1;
    const pct = options.maxExtraLoadPercent ?? 10;
    if (!(options.delayMs >= 0)) issues.push({ path: 'delayMs', message: 'must be >= 0' });
    if (!Number.isInteger(maxHedges) || maxHedges < 1)
      issues.push({ path: 'maxHedges', message: 'must be an integer >= 1' });
    if (!(pct >= 0)) issues.push({ path: 'maxExtraLoadPercent', message: 'must be >= 0' });
    if (issues.length > 0) throw new InvalidArgumentError('hedge options', issues);
    this.delayMs = options.delayMs;
    this.maxHedges = maxHedges;
    this.clock = options.clock ?? systemClock;
    this.budget = new RetryBudget({ ratio: pct / 100, minRetriesPerSecond: 0, clock: this.clock });
    this.classify = options.classify ?? defaultClassifier;
    this.onDiscard = options.onDiscard;
  }

  /** Runs `fn`, hedging as configured. */
  execute<T>(fn: PolicyFn<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    this.budget.onRequest();
    return new Promise<T>((resolve, reject) => {
      const controllers: AbortController[] = [];
      let inFlight = 0;
      let done = false;
      let timer: TimerHandle | undefined;
      let last: { threw: true; error: unknown } | { threw: false; value: T } | undefined;

      const finish = (settle: () => void, abortReason: unknown): void => {
        done = true;
        timer?.clear();
        signal?.removeEventListener('abort', onAbort);
        for (const c of controllers) if (!c.signal.aborted) c.abort(abortReason);
        settle();
      };
      const lost = (): DOMException => new DOMException(HEDGE_LOST, 'AbortError');
      const onAbort = (): void => finish(() => reject(signal?.reason), signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });

      const canHedge = (): boolean => controllers.length <= this.maxHedges && this.budget.tryWithdraw();
      const armTimer = (): void => {
        timer?.clear();
        if (controllers.length > this.maxHedges) return;
        timer = this.clock.setTimeout(() => {
          if (!done && canHedge()) launch('delay');
        }, this.delayMs);
      };

      const settled = (threw: boolean, value: unknown): void => {
        inFlight--;
        if (done) {
          if (!threw) this.onDiscard?.(value);
          return;
        }
        const outcome = threw ? this.classify.error(value) : this.classify.result(value);
        if (!threw && !isServerError(outcome)) {
          finish(() => resolve(value as T), lost());
          return;
        }
        if (last !== undefined && !last.threw) this.onDiscard?.(last.value);
        last = threw ? { threw: true, error: value } : { threw: false, value: value as T };
        // Failed fast: try the next copy now rather than after the delay.
        if (canHedge()) {
          launch('failure');
          return;
        }
        if (inFlight === 0) {
          const final = last;
          finish(() => (final.threw ? reject(final.error) : resolve(final.value)), lost());
        }
      };

      const launch = (trigger: 'delay' | 'failure'): void => {
        const index = controllers.length;
        const controller = new AbortController();
        controllers.push(controller);
        inFlight++;
        if (index > 0 && this.hedgeEmitter.size > 0) this.hedgeEmitter.emit({ hedge: index, trigger });
        invoke(fn, { signal: controller.signal, hedge: index }).then(
          (v) => settled(false, v),
          (e: unknown) => settled(true, e),
        );
        armTimer();
      };

      launch('delay');
    });
  }
}
