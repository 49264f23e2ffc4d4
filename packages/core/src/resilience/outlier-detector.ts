import { type Clock, systemClock, type TimerHandle } from '../clock/index.js';
import { InvalidArgumentError, type ValidationIssue } from '../errors/index.js';
import { Emitter, type Event } from './event.js';
import { type CallOutcome, isGatewayError, isNeutral } from './outcome.js';

/**
 * What an {@link OutlierDetector} drives: a balancer `Picker` satisfies it (`setEjected`), and so
 * does anything else that can take an endpoint out of rotation.
 */
export interface EjectionTarget {
  /** Takes the endpoint at `index` out of rotation (`true`) or puts it back (`false`). */
  setEjected(index: number, ejected: boolean): void;
}

/** Success-rate ejection settings (Envoy's `success_rate_*`). */
export interface SuccessRateOptions {
  /** Endpoints with enough volume needed before the statistic means anything. Default 5. */
  minimumHosts?: number;
  /** Requests an endpoint needs in an interval to be judged. Default 100. */
  requestVolume?: number;
  /** Ejected when below `mean − stdevFactor × stdev` of the success rates. Default 1.9. */
  stdevFactor?: number;
}

/**
 * Failure-percentage ejection settings (Envoy's `failure_percentage_*`): an endpoint whose share
 * of failed calls in an interval reaches `threshold` is ejected, whatever its peers do — the
 * check that still works when most endpoints fail alike, where success-rate statistics do not.
 */
export interface FailurePercentageOptions {
  /** Ejected at or above this % of failures in an interval. Default 85. */
  threshold?: number;
  /** Endpoints with enough volume needed before any is judged. Default 5. */
  minimumHosts?: number;
  /** Requests an endpoint needs in an interval to be judged. Default 50. */
  requestVolume?: number;
}

/** Options of an {@link OutlierDetector}; the defaults are Envoy's. */
export interface OutlierDetectorOptions {
  /** Consecutive 5xx (or local failures) that eject; 0 disables. Default 5 (Amalgam8's `consecutive_errors`). */
  consecutive5xx?: number;
  /** Consecutive gateway errors (502/503/504, connect failure, reset, timeout) that eject; 0 (default) disables. */
  consecutiveGatewayErrors?: number;
  /** How often success rates are evaluated and ejection multipliers decay. Default 10 000 ms (`detection_interval`). */
  intervalMs?: number;
  /** Ejection time = base × times ejected. Default 30 000 ms (Amalgam8's `sleep_window`). */
  baseEjectionTimeMs?: number;
  /** Cap of the ejection time. Default 300 000 ms. */
  maxEjectionTimeMs?: number;
  /**
   * No new ejection while this share of endpoints is already ejected. Default 10 (%); as in
   * Envoy, one endpoint can always be ejected when none is.
   */
  maxEjectionPercent?: number;
  /** Success-rate ejection, or `false` to disable it. Default enabled with Envoy's settings. */
  successRate?: SuccessRateOptions | false;
  /** Failure-percentage ejection. Default off, as in Envoy (`enforcing_failure_percentage` 0). */
  failurePercentage?: FailurePercentageOptions | false;
  /**
   * When fewer than this % of endpoints are un-ejected, the detector is in panic: it puts every
   * endpoint back into rotation (keeping its own ejection state) so traffic spreads over all of
   * them instead of crushing the few left. Default 50 (Envoy's `healthy_panic_threshold`); 0 disables.
   */
  panicThresholdPercent?: number;
  /** Default {@link systemClock}. */
  clock?: Clock;
}

/** Why an endpoint was ejected. */
export type EjectionReason = 'consecutive-5xx' | 'consecutive-gateway-errors' | 'success-rate' | 'failure-percentage';

/** Emitted by {@link OutlierDetector.onEject}. */
export interface EjectionEvent {
  readonly index: number;
  readonly reason: EjectionReason;
  /** How long it stays out. */
  readonly durationMs: number;
  /** How many times in a row (with decay) it has been ejected, this one included. */
  readonly ejections: number;
}

/** Emitted by {@link OutlierDetector.onPanic}. */
export interface PanicEvent {
  /** True on entering panic, false on leaving it. */
  readonly panic: boolean;
  /** Share of endpoints not ejected. */
  readonly healthyPercent: number;
}

/**
 * Passive health checking per endpoint, Envoy-style: an endpoint is ejected from its picker
 * after consecutive 5xx / gateway errors, when its success rate over an interval is a
 * statistical outlier among its peers, or (opt-in) when its failure percentage over an interval
 * reaches a threshold. Ejection lasts `base × times ejected` (capped); the
 * multiplier decays by one per interval spent healthy. At most `maxEjectionPercent` of the
 * endpoints are ejected, and below `panicThresholdPercent` healthy the detector stops enforcing.
 *
 * Hot path: `record(index, outcome)` — typed arrays, no allocation. Timers (interval and
 * ejection expiry) run on the clock.
 */
export class OutlierDetector {
  private target: EjectionTarget;
  private n!: number;
  private readonly consecutive5xx: number;
  private readonly consecutiveGateway: number;
  private readonly baseEjectionMs: number;
  private readonly maxEjectionMs: number;
  private readonly maxEjectionPercent: number;
  private readonly panicThreshold: number;
  private readonly successRate: Required<SuccessRateOptions> | undefined;
  private readonly failurePercentage: Required<FailurePercentageOptions> | undefined;
  private readonly clock: Clock;
  private readonly interval: TimerHandle;

  private c5xx!: Int32Array;
  private cgw!: Int32Array;
  private ok!: Float64Array;
  private total!: Float64Array;
  private ejected!: Uint8Array;
  private ejections!: Int32Array;
  private ejectedUntil!: Float64Array;
  private timers!: (TimerHandle | undefined)[];
  private ejectedCount = 0;
  private panicking = false;

  private readonly ejectEmitter = new Emitter<EjectionEvent>();
  private readonly returnEmitter = new Emitter<{ readonly index: number }>();
  private readonly panicEmitter = new Emitter<PanicEvent>();

  /** Fires when an endpoint is ejected. */
  readonly onEject: Event<EjectionEvent> = this.ejectEmitter.event;
  /** Fires when an ejected endpoint's time is up and it returns. */
  readonly onReturn: Event<{ readonly index: number }> = this.returnEmitter.event;
  /** Fires on entering and leaving panic. */
  readonly onPanic: Event<PanicEvent> = this.panicEmitter.event;

  /**
   * @param target - the picker (or anything with `setEjected`) to drive.
   * @param size - number of endpoints; indexes are the picker's.
   */
  constructor(target: EjectionTarget, size: number, options: OutlierDetectorOptions = {}) {
    const issues: ValidationIssue[] = [];
    const num = (key: string, v: number, ok: boolean): number => {
      if (!ok) issues.push({ path: key, message: `invalid value ${v}` });
      return v;
    };
    const c5 = options.consecutive5xx ?? 5;
    const cg = options.consecutiveGatewayErrors ?? 0;
    const intervalMs = options.intervalMs ?? 10_000;
    const base = options.baseEjectionTimeMs ?? 30_000;
    const max = options.maxEjectionTimeMs ?? Math.max(300_000, base);
    const maxPct = options.maxEjectionPercent ?? 10;
    const panic = options.panicThresholdPercent ?? 50;
    this.consecutive5xx = num('consecutive5xx', c5, Number.isInteger(c5) && c5 >= 0);
    this.consecutiveGateway = num('consecutiveGatewayErrors', cg, Number.isInteger(cg) && cg >= 0);
    num('intervalMs', intervalMs, intervalMs > 0);
    this.baseEjectionMs = num('baseEjectionTimeMs', base, base > 0);
    this.maxEjectionMs = num('maxEjectionTimeMs', max, max >= base);
    this.maxEjectionPercent = num('maxEjectionPercent', maxPct, maxPct >= 0 && maxPct <= 100);
    this.panicThreshold = num('panicThresholdPercent', panic, panic >= 0 && panic <= 100);
    num('size', size, Number.isInteger(size) && size >= 0);
    if (options.successRate !== false) {
      const sr = options.successRate ?? {};
      this.successRate = {
        minimumHosts: num('successRate.minimumHosts', sr.minimumHosts ?? 5, (sr.minimumHosts ?? 5) >= 1),
        requestVolume: num('successRate.requestVolume', sr.requestVolume ?? 100, (sr.requestVolume ?? 100) >= 1),
        stdevFactor: num('successRate.stdevFactor', sr.stdevFactor ?? 1.9, (sr.stdevFactor ?? 1.9) >= 0),
      };
    }
    const fp = options.failurePercentage;
    if (fp !== undefined && fp !== false) {
      const threshold = fp.threshold ?? 85;
      const hosts = fp.minimumHosts ?? 5;
      const volume = fp.requestVolume ?? 50;
      this.failurePercentage = {
        threshold: num('failurePercentage.threshold', threshold, threshold >= 0 && threshold <= 100),
        minimumHosts: num('failurePercentage.minimumHosts', hosts, Number.isInteger(hosts) && hosts >= 0),
        requestVolume: num('failurePercentage.requestVolume', volume, volume >= 1),
      };
    }
    if (issues.length > 0) throw new InvalidArgumentError('outlier detection options', issues);

    this.clock = options.clock ?? systemClock;
    this.target = target;
    this.allocate(size);
    this.interval = this.clock.setInterval(() => this.onInterval(), intervalMs);
  }

  /** Number of endpoints tracked. */
  get size(): number {
    return this.n;
  }

  /** Endpoints currently ejected (by the detector's own bookkeeping, panic or not). */
  get ejectedEndpoints(): number {
    return this.ejectedCount;
  }

  /** True while in panic: ejections are recorded but not applied to the target. */
  get panic(): boolean {
    return this.panicking;
  }

  /** True when the detector considers `index` ejected. */
  isEjected(index: number): boolean {
    return this.ejected[index] === 1;
  }

  /** Records the outcome of a call to endpoint `index` (an HTTP status or an `Outcome` code). */
  record(index: number, outcome: CallOutcome): void {
    if (index < 0 || index >= this.n || isNeutral(outcome)) return;
    this.total[index] = (this.total[index] as number) + 1;
    if (outcome < 500 && outcome > 0) {
      this.ok[index] = (this.ok[index] as number) + 1;
      this.c5xx[index] = 0;
      this.cgw[index] = 0;
      return;
    }
    // A non-gateway 5xx breaks a run of gateway errors, as in Envoy.
    if (isGatewayError(outcome)) {
      const run = (this.cgw[index] as number) + 1;
      this.cgw[index] = run;
      if (this.consecutiveGateway > 0 && run >= this.consecutiveGateway) {
        this.eject(index, 'consecutive-gateway-errors');
        return;
      }
    } else {
      this.cgw[index] = 0;
    }
    const run = (this.c5xx[index] as number) + 1;
    this.c5xx[index] = run;
    if (this.consecutive5xx > 0 && run >= this.consecutive5xx) this.eject(index, 'consecutive-5xx');
  }

  /** Fresh, zeroed per-endpoint state for `size` endpoints (construction and rebind share it). */
  private allocate(size: number): void {
    this.n = size;
    this.c5xx = new Int32Array(size);
    this.cgw = new Int32Array(size);
    this.ok = new Float64Array(size);
    this.total = new Float64Array(size);
    this.ejected = new Uint8Array(size);
    this.ejections = new Int32Array(size);
    this.ejectedUntil = new Float64Array(size);
    this.timers = new Array<TimerHandle | undefined>(size).fill(undefined);
  }

  /**
   * Rebinds to a rebuilt picker (the endpoint set changed). `previousIndexOf(i)` gives the old
   * index of new endpoint `i`, or -1 if it is new; state of carried endpoints — ejection and its
   * remaining time, the multiplier, counters — survives, so a rebuild never pardons a bad host.
   */
  rebind(target: EjectionTarget, size: number, previousIndexOf: (index: number) => number = () => -1): void {
    const old = {
      c5xx: this.c5xx,
      cgw: this.cgw,
      ok: this.ok,
      total: this.total,
      ejected: this.ejected,
      ejections: this.ejections,
      until: this.ejectedUntil,
    };
    for (const t of this.timers) t?.clear();
    this.target = target;
    this.allocate(size);
    this.ejectedCount = 0;
    const now = this.clock.now();
    for (let i = 0; i < size; i++) {
      const j = previousIndexOf(i);
      if (j < 0 || j >= old.ejected.length) continue;
      this.c5xx[i] = old.c5xx[j] as number;
      this.cgw[i] = old.cgw[j] as number;
      this.ok[i] = old.ok[j] as number;
      this.total[i] = old.total[j] as number;
      this.ejections[i] = old.ejections[j] as number;
      if (old.ejected[j] === 1 && (old.until[j] as number) > now) {
        this.ejected[i] = 1;
        this.ejectedUntil[i] = old.until[j] as number;
        this.ejectedCount++;
        this.timers[i] = this.clock.setTimeout(() => this.unEject(i), (old.until[j] as number) - now);
      }
    }
    this.panicking = this.computePanic();
    if (!this.panicking) for (let i = 0; i < size; i++) if (this.ejected[i] === 1) target.setEjected(i, true);
  }

  /** Stops every timer. Ejections in the target stay as they are. */
  dispose(): void {
    this.interval.clear();
    for (const t of this.timers) t?.clear();
  }

  private eject(i: number, reason: EjectionReason): void {
    if (this.ejected[i] === 1) return;
    // Envoy's rule: eject while the ejected share is below the maximum (so one always can).
    if (this.ejectedCount * 100 >= this.maxEjectionPercent * this.n) return;
    const times = (this.ejections[i] as number) + 1;
    this.ejections[i] = times;
    const duration = Math.min(this.baseEjectionMs * times, this.maxEjectionMs);
    this.ejected[i] = 1;
    this.ejectedCount++;
    this.ejectedUntil[i] = this.clock.now() + duration;
    this.c5xx[i] = 0;
    this.cgw[i] = 0;
    this.timers[i] = this.clock.setTimeout(() => this.unEject(i), duration);
    if (!this.panicking) this.target.setEjected(i, true);
    if (this.ejectEmitter.size > 0)
      this.ejectEmitter.emit({ index: i, reason, durationMs: duration, ejections: times });
    this.updatePanic();
  }

  private unEject(i: number): void {
    if (this.ejected[i] !== 1) return;
    this.ejected[i] = 0;
    this.ejectedCount--;
    this.timers[i] = undefined;
    this.c5xx[i] = 0;
    this.cgw[i] = 0;
    if (!this.panicking) this.target.setEjected(i, false);
    if (this.returnEmitter.size > 0) this.returnEmitter.emit({ index: i });
    this.updatePanic();
  }

  private computePanic(): boolean {
    return this.n > 0 && (this.n - this.ejectedCount) * 100 < this.panicThreshold * this.n;
  }

  private updatePanic(): void {
    const panic = this.computePanic();
    if (panic === this.panicking) return;
    this.panicking = panic;
    // Entering panic: show every endpoint to the picker; leaving it: re-apply the ejections.
    for (let i = 0; i < this.n; i++) if (this.ejected[i] === 1) this.target.setEjected(i, !panic);
    if (this.panicEmitter.size > 0) {
      this.panicEmitter.emit({ panic, healthyPercent: ((this.n - this.ejectedCount) * 100) / this.n });
    }
  }

  private onInterval(): void {
    for (let i = 0; i < this.n; i++) {
      const times = this.ejections[i] as number;
      if (this.ejected[i] === 0 && times > 0) this.ejections[i] = times - 1;
    }
    if (this.successRate !== undefined) this.evaluateSuccessRates(this.successRate);
    if (this.failurePercentage !== undefined) this.evaluateFailurePercentages(this.failurePercentage);
    this.ok.fill(0);
    this.total.fill(0);
  }

  private evaluateSuccessRates(sr: Required<SuccessRateOptions>): void {
    let hosts = 0;
    let sum = 0;
    for (let i = 0; i < this.n; i++) {
      if (this.ejected[i] === 0 && (this.total[i] as number) >= sr.requestVolume) {
        hosts++;
        sum += (this.ok[i] as number) / (this.total[i] as number);
      }
    }
    if (hosts < sr.minimumHosts) return;
    const mean = sum / hosts;
    let variance = 0;
    for (let i = 0; i < this.n; i++) {
      if (this.ejected[i] === 0 && (this.total[i] as number) >= sr.requestVolume) {
        variance += ((this.ok[i] as number) / (this.total[i] as number) - mean) ** 2;
      }
    }
    const threshold = mean - sr.stdevFactor * Math.sqrt(variance / hosts);
    for (let i = 0; i < this.n; i++) {
      if (this.ejected[i] === 0 && (this.total[i] as number) >= sr.requestVolume) {
        if ((this.ok[i] as number) / (this.total[i] as number) < threshold) this.eject(i, 'success-rate');
      }
    }
  }

  private evaluateFailurePercentages(fp: Required<FailurePercentageOptions>): void {
    let hosts = 0;
    for (let i = 0; i < this.n; i++)
      if (this.ejected[i] === 0 && (this.total[i] as number) >= fp.requestVolume) hosts++;
    if (hosts < fp.minimumHosts) return;
    for (let i = 0; i < this.n; i++) {
      const total = this.total[i] as number;
      if (this.ejected[i] !== 0 || total < fp.requestVolume) continue;
      if (((total - (this.ok[i] as number)) * 100) / total >= fp.threshold) this.eject(i, 'failure-percentage');
    }
  }
}
