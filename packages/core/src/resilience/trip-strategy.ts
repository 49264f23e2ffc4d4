import type { Clock } from '../clock/index.js';
import { InvalidArgumentError } from '../errors/index.js';
import { SlidingWindow } from './sliding-window.js';

/**
 * Decides when a closed circuit opens (cockatiel's "breaker"). The circuit breaker feeds it the
 * outcomes of calls admitted while closed; it is reset whenever the circuit closes again.
 */
export interface TripStrategy {
  /** A call admitted while closed succeeded. */
  success(): void;
  /** A call admitted while closed failed; returns true when the circuit should open. */
  failure(): boolean;
  /** Forgets all history (the circuit just closed). */
  reset(): void;
  /** A word for `onBreak` events: why this strategy opens. */
  readonly reason: string;
}

/** Opens after `threshold` consecutive failures (Amalgam8's `consecutive_errors`, default 5). */
export interface ConsecutiveFailuresOptions {
  kind: 'consecutive';
  /** Consecutive failures that open the circuit. Default 5. */
  threshold?: number;
}

/**
 * Opens when, over a sliding window, at least `minimumThroughput` calls were made and the share
 * that failed reached `threshold`. The minimum keeps one failure out of two calls at 3 a.m. from
 * opening the circuit.
 */
export interface FailureRateOptions {
  kind: 'failure-rate';
  /** Failure share in (0, 1] that opens the circuit. Default 0.5. */
  threshold?: number;
  /** Width of the window. Default 10 000 ms. */
  windowMs?: number;
  /** Resolution of the window. Default 10 buckets. */
  buckets?: number;
  /** Calls needed in the window before the rate counts. Default 20. */
  minimumThroughput?: number;
}

/** Data form of the built-in strategies, so route settings can carry them as plain JSON. */
export type TripOptions = ConsecutiveFailuresOptions | FailureRateOptions;

/** See {@link ConsecutiveFailuresOptions}. */
export class ConsecutiveFailures implements TripStrategy {
  readonly reason = 'consecutive-failures';
  readonly threshold: number;
  private count = 0;

  constructor(threshold = 5) {
    if (!Number.isInteger(threshold) || threshold < 1) {
      throw new InvalidArgumentError('consecutive-failures options', [
        { path: 'threshold', message: 'must be an integer >= 1' },
      ]);
    }
    this.threshold = threshold;
  }

  success(): void {
    this.count = 0;
  }

  failure(): boolean {
    return ++this.count >= this.threshold;
  }

  reset(): void {
    this.count = 0;
  }
}

const CALLS = 0;
const FAILURES = 1;

/** See {@link FailureRateOptions}. */
export class FailureRate implements TripStrategy {
  readonly reason = 'failure-rate';
  readonly threshold: number;
  readonly minimumThroughput: number;
  private readonly window: SlidingWindow;

  constructor(clock: Clock, options: Omit<FailureRateOptions, 'kind'> = {}) {
    this.threshold = options.threshold ?? 0.5;
    this.minimumThroughput = options.minimumThroughput ?? 20;
    const issues = [];
    if (!(this.threshold > 0 && this.threshold <= 1)) issues.push({ path: 'threshold', message: 'must be in (0, 1]' });
    if (!(this.minimumThroughput >= 1)) issues.push({ path: 'minimumThroughput', message: 'must be >= 1' });
    if (issues.length > 0) throw new InvalidArgumentError('failure-rate options', issues);
    this.window = new SlidingWindow(clock, options.windowMs ?? 10_000, options.buckets ?? 10, 2);
  }

  success(): void {
    this.window.add(CALLS);
  }

  failure(): boolean {
    this.window.add(CALLS);
    this.window.add(FAILURES);
    const calls = this.window.sum(CALLS);
    return calls >= this.minimumThroughput && this.window.sum(FAILURES) / calls >= this.threshold;
  }

  reset(): void {
    this.window.clear();
  }
}

/** Builds the strategy an options object describes (or returns a custom strategy as is). */
export function createTripStrategy(clock: Clock, trip: TripOptions | TripStrategy | undefined): TripStrategy {
  if (trip === undefined) return new ConsecutiveFailures();
  if ('failure' in trip) return trip;
  return trip.kind === 'consecutive' ? new ConsecutiveFailures(trip.threshold) : new FailureRate(clock, trip);
}
