import type { Clock } from '@weft/core';

/**
 * Outcome classes, on core's outcome codes (an HTTP status, or -1 connect failure, -2 reset,
 * -3 timeout, -4 error, -5 rejected locally, 0 cancelled).
 */
export function isFailure(outcome: number): boolean {
  return outcome >= 500 || (outcome < 0 && outcome !== -5);
}

/** 502/503/504 and the local failures a gateway turns into one of them. */
export function isGatewayFailure(outcome: number): boolean {
  return outcome === 502 || outcome === 503 || outcome === 504 || outcome === -1 || outcome === -2 || outcome === -3;
}

/** Options of the per-endpoint circuit breaker. */
export interface BreakerOptions {
  /** Consecutive failures (5xx or no response) that open the breaker. Default 5. */
  consecutiveFailures?: number;
  /** How long the breaker stays open before letting probes through, ms. Default 30 000 (Amalgam8's sleep_window). */
  openMs?: number;
  /** Successful probes needed in half-open to close again; that many probes may run at once. Default 3. */
  halfOpenProbes?: number;
  /** Concurrent requests allowed to the endpoint (Amalgam8's max_requests). Default 1024. */
  maxRequests?: number;
}

/** State of a circuit breaker. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/**
 * A circuit breaker for one endpoint: opens after N consecutive failures, lets `halfOpenProbes`
 * probes through after `openMs`, closes when they all succeed and re-opens on any probe failure.
 * Also caps concurrent requests. `tryAcquire` / `release` are the hot path: no allocation.
 */
export class EndpointBreaker {
  state: BreakerState = 'closed';
  inflight = 0;
  private failures = 0;
  private openedAt = 0;
  private probesInFlight = 0;
  private probeSuccesses = 0;
  private readonly threshold: number;
  private readonly openMs: number;
  private readonly probes: number;
  private readonly maxRequests: number;

  constructor(
    options: BreakerOptions,
    private readonly clock: Clock,
    private readonly onChange: (state: BreakerState) => void,
  ) {
    this.threshold = options.consecutiveFailures ?? 5;
    this.openMs = options.openMs ?? 30_000;
    this.probes = options.halfOpenProbes ?? 3;
    this.maxRequests = options.maxRequests ?? 1024;
  }

  /**
   * Asks to send a request: a token >= 0 to hand back to `release` exactly once, or -1 when the
   * breaker refuses (core's `CircuitBreaker` token protocol).
   */
  tryAcquire(): number {
    if (this.inflight >= this.maxRequests) return -1;
    if (this.state === 'open') {
      if (this.clock.now() - this.openedAt < this.openMs) return -1;
      this.transition('half-open');
      this.probesInFlight = 0;
      this.probeSuccesses = 0;
    }
    if (this.state === 'half-open') {
      if (this.probesInFlight + this.probeSuccesses >= this.probes) return -1;
      this.probesInFlight++;
      this.inflight++;
      return 1;
    }
    this.inflight++;
    return 0;
  }

  /** Ends a request admitted by `tryAcquire` with its outcome. Neutral outcomes (cancelled, 0) count as neither. */
  release(token: number, outcome: number): void {
    if (token < 0) return;
    this.inflight--;
    const neutral = outcome === 0 || outcome === -5;
    if (this.state === 'half-open') {
      this.probesInFlight = Math.max(0, this.probesInFlight - 1);
      if (neutral) return;
      if (isFailure(outcome)) {
        this.open();
        return;
      }
      if (++this.probeSuccesses >= this.probes) {
        this.failures = 0;
        this.transition('closed');
      }
      return;
    }
    if (neutral || this.state === 'open') return;
    if (isFailure(outcome)) {
      if (++this.failures >= this.threshold) this.open();
    } else this.failures = 0;
  }

  /** Milliseconds until an open breaker admits a probe. */
  retryAfterMs(): number {
    return this.state === 'open' ? Math.max(0, this.openMs - (this.clock.now() - this.openedAt)) : 0;
  }

  private open(): void {
    this.openedAt = this.clock.now();
    this.failures = 0;
    this.transition('open');
  }

  private transition(state: BreakerState): void {
    if (this.state === state) return;
    this.state = state;
    this.onChange(state);
  }
}

/** Options of outlier ejection (passive health checking). */
export interface OutlierOptions {
  /** Consecutive gateway failures (502/503/504, connect failure, reset, timeout) that eject an endpoint. Default 5. */
  consecutiveGatewayFailures?: number;
  /** Consecutive 5xx (any) that eject an endpoint. Default: off. */
  consecutive5xx?: number;
  /** First ejection time, ms; multiplied by the number of times the endpoint was ejected. Default 30 000. */
  baseEjectionMs?: number;
  /** Longest ejection, ms. Default 300 000. */
  maxEjectionMs?: number;
  /** At most this share of a service's endpoints is ejected at once, 0..100. Default 50. */
  maxEjectionPercent?: number;
}

/** Outlier-detection state of one endpoint. */
export class OutlierState {
  consecutiveGateway = 0;
  consecutive5xx = 0;
  ejectedUntil = 0;
  ejections = 0;
  get ejected(): boolean {
    return this.ejectedUntil > 0;
  }
}

/** Decides ejections from outcomes; the caller applies them to the pickers. */
export class OutlierPolicy {
  readonly gatewayThreshold: number;
  readonly serverErrorThreshold: number;
  readonly baseMs: number;
  readonly maxMs: number;
  readonly maxPercent: number;

  constructor(options: OutlierOptions = {}) {
    this.gatewayThreshold = options.consecutiveGatewayFailures ?? 5;
    this.serverErrorThreshold = options.consecutive5xx ?? 0;
    this.baseMs = options.baseEjectionMs ?? 30_000;
    this.maxMs = options.maxEjectionMs ?? 300_000;
    this.maxPercent = options.maxEjectionPercent ?? 50;
  }

  /** Records an outcome; returns true when the endpoint should now be ejected. */
  record(state: OutlierState, outcome: number): boolean {
    if (outcome === 0 || outcome === -5) return false;
    if (isGatewayFailure(outcome)) state.consecutiveGateway++;
    else state.consecutiveGateway = 0;
    if (isFailure(outcome)) state.consecutive5xx++;
    else state.consecutive5xx = 0;
    if (state.ejected) return false;
    return (
      (this.gatewayThreshold > 0 && state.consecutiveGateway >= this.gatewayThreshold) ||
      (this.serverErrorThreshold > 0 && state.consecutive5xx >= this.serverErrorThreshold)
    );
  }

  /** Marks `state` ejected at `now`; returns the ejection duration. */
  eject(state: OutlierState, now: number): number {
    state.ejections++;
    const ms = Math.min(this.maxMs, this.baseMs * state.ejections);
    state.ejectedUntil = now + ms;
    state.consecutiveGateway = 0;
    state.consecutive5xx = 0;
    return ms;
  }
}

/** Options of the retry budget. */
export interface RetryBudgetOptions {
  /** Retries as a share of requests over the window. Default 0.2. */
  ratio?: number;
  /** Retries per second always allowed. Default 10. */
  minRetriesPerSecond?: number;
  /** Window, ms. Default 10 000. */
  windowMs?: number;
}

/**
 * Retries may not exceed `ratio` × requests plus a reserve over a sliding window (Finagle /
 * Linkerd). Ten buckets; both calls are O(1) amortised and allocation-free.
 */
export class SimpleRetryBudget {
  private readonly ratio: number;
  private readonly reserve: number;
  private readonly bucketMs: number;
  private readonly requests = new Float64Array(10);
  private readonly retries = new Float64Array(10);
  private bucketStart = 0;
  private index = 0;
  private totalRequests = 0;
  private totalRetries = 0;

  constructor(
    options: RetryBudgetOptions,
    private readonly clock: Clock,
  ) {
    this.ratio = options.ratio ?? 0.2;
    const windowMs = options.windowMs ?? 10_000;
    this.reserve = ((options.minRetriesPerSecond ?? 10) * windowMs) / 1000;
    this.bucketMs = windowMs / 10;
    this.bucketStart = clock.now();
  }

  onRequest(): void {
    this.advance();
    this.requests[this.index] = (this.requests[this.index] ?? 0) + 1;
    this.totalRequests++;
  }

  tryWithdraw(): boolean {
    this.advance();
    if (this.totalRetries + 1 > this.totalRequests * this.ratio + this.reserve) return false;
    this.retries[this.index] = (this.retries[this.index] ?? 0) + 1;
    this.totalRetries++;
    return true;
  }

  private advance(): void {
    const now = this.clock.now();
    let steps = Math.floor((now - this.bucketStart) / this.bucketMs);
    if (steps <= 0) return;
    if (steps > 10) steps = 10;
    for (let s = 0; s < steps; s++) {
      this.index = (this.index + 1) % 10;
      this.totalRequests -= this.requests[this.index] ?? 0;
      this.totalRetries -= this.retries[this.index] ?? 0;
      this.requests[this.index] = 0;
      this.retries[this.index] = 0;
    }
    this.bucketStart = now - ((now - this.bucketStart) % this.bucketMs);
  }
}
