import { describe, expect, it } from 'vitest';
import { createPicker } from '../balancers/index.js';
import { VirtualClock } from '../clock/index.js';
import { InvalidArgumentError } from '../errors/index.js';
import { Outcome } from './outcome.js';
import { type EjectionTarget, OutlierDetector, type OutlierDetectorOptions } from './outlier-detector.js';

/** Stands in for a Picker: remembers what the detector told it. */
class FakePicker implements EjectionTarget {
  readonly ejected = new Set<number>();
  calls = 0;
  setEjected(index: number, ejected: boolean): void {
    this.calls++;
    if (ejected) this.ejected.add(index);
    else this.ejected.delete(index);
  }
  get list(): number[] {
    return [...this.ejected].sort((a, b) => a - b);
  }
}

function setup(size: number, options: OutlierDetectorOptions = {}) {
  const clock = new VirtualClock();
  const picker = new FakePicker();
  const detector = new OutlierDetector(picker, size, { clock, successRate: false, ...options });
  const log: string[] = [];
  detector.onEject((e) => log.push(`eject ${e.index} ${e.reason} ${e.durationMs}ms x${e.ejections}`));
  detector.onReturn((e) => log.push(`return ${e.index}`));
  detector.onPanic((e) => log.push(`panic ${e.panic} ${Math.round(e.healthyPercent)}%`));
  return { clock, picker, detector, log };
}

function repeat(d: OutlierDetector, index: number, outcome: number, times: number): void {
  for (let i = 0; i < times; i++) d.record(index, outcome);
}

describe('OutlierDetector — consecutive errors', () => {
  it('ejects after N consecutive 5xx; any success breaks the run', () => {
    const { picker, detector, log } = setup(10);
    repeat(detector, 3, 500, 4);
    detector.record(3, 200);
    repeat(detector, 3, 503, 4);
    detector.record(3, Outcome.Cancelled); // neutral: neither breaks nor extends the run
    expect(picker.list).toEqual([]);
    detector.record(3, Outcome.Timeout);
    expect(picker.list).toEqual([3]);
    expect(detector.isEjected(3)).toBe(true);
    expect(log).toEqual(['eject 3 consecutive-5xx 30000ms x1']);
  });

  it('ejects on consecutive gateway errors when enabled; a plain 500 breaks that run', () => {
    const { picker, detector, log } = setup(10, { consecutive5xx: 0, consecutiveGatewayErrors: 3 });
    detector.record(1, 502);
    detector.record(1, Outcome.ConnectFailure);
    detector.record(1, 500);
    detector.record(1, 504);
    detector.record(1, Outcome.Reset);
    expect(picker.list).toEqual([]);
    detector.record(1, 503);
    expect(picker.list).toEqual([1]);
    expect(log).toEqual(['eject 1 consecutive-gateway-errors 30000ms x1']);
    repeat(detector, 2, 500, 50); // consecutive5xx: 0 disables that detector
    expect(picker.list).toEqual([1]);
  });

  it('ejects for base × times ejected (capped); the multiplier decays while healthy', () => {
    const { clock, picker, detector, log } = setup(10, {
      baseEjectionTimeMs: 1_000,
      maxEjectionTimeMs: 2_500,
      intervalMs: 10_000,
    });
    repeat(detector, 0, 500, 5);
    clock.advance(999);
    expect(picker.list).toEqual([0]);
    clock.advance(1);
    expect(picker.list).toEqual([]);
    repeat(detector, 0, 500, 5);
    clock.advance(2_000);
    repeat(detector, 0, 500, 5);
    clock.advance(2_500);
    expect(log).toEqual([
      'eject 0 consecutive-5xx 1000ms x1',
      'return 0',
      'eject 0 consecutive-5xx 2000ms x2',
      'return 0',
      'eject 0 consecutive-5xx 2500ms x3',
      'return 0',
    ]);
    // Three healthy intervals bring the multiplier back from 3 to 0 (Envoy's decay).
    clock.advance(30_000);
    repeat(detector, 0, 500, 5);
    expect(log.at(-1)).toBe('eject 0 consecutive-5xx 1000ms x1');
  });

  it('never ejects more than maxEjectionPercent (but always one)', () => {
    const { picker, detector } = setup(10, { maxEjectionPercent: 20 });
    for (let i = 0; i < 10; i++) repeat(detector, i, 500, 5);
    expect(picker.list).toEqual([0, 1]);
    expect(detector.ejectedEndpoints).toBe(2);

    const small = setup(3, { maxEjectionPercent: 10 });
    for (let i = 0; i < 3; i++) repeat(small.detector, i, 500, 5);
    expect(small.picker.list).toEqual([0]);
  });
});

describe('OutlierDetector — panic', () => {
  it('puts every endpoint back when too few are healthy, and re-applies ejections on recovery', () => {
    const { clock, picker, detector, log } = setup(4, {
      maxEjectionPercent: 100,
      panicThresholdPercent: 50,
      baseEjectionTimeMs: 1_000,
    });
    repeat(detector, 0, 500, 5);
    clock.advance(500);
    repeat(detector, 1, 500, 5);
    expect(picker.list).toEqual([0, 1]); // 50 % healthy: at the threshold, not below it
    repeat(detector, 2, 500, 5);
    expect(detector.panic).toBe(true);
    expect(picker.list).toEqual([]); // the picker sees everything: traffic spreads over all four
    expect(detector.ejectedEndpoints).toBe(3);
    clock.advance(500); // endpoint 0 returns: 2 of 4 healthy, panic over
    expect(detector.panic).toBe(false);
    expect(picker.list).toEqual([1, 2]);
    expect(log.filter((l) => l.startsWith('panic'))).toEqual(['panic true 25%', 'panic false 50%']);
  });

  it('keeps a fully ejected set serving', () => {
    const { picker, detector } = setup(2, { maxEjectionPercent: 100 });
    repeat(detector, 0, 500, 5);
    repeat(detector, 1, 500, 5);
    expect(detector.ejectedEndpoints).toBe(2);
    expect(detector.panic).toBe(true);
    expect(picker.list).toEqual([]);
  });
});

describe('OutlierDetector — success rate', () => {
  function traffic(d: OutlierDetector, rates: number[], volume: number): void {
    rates.forEach((rate, i) => {
      for (let k = 0; k < volume; k++) d.record(i, k < rate * volume ? 200 : 500);
    });
  }

  it('ejects an endpoint whose success rate is an outlier among enough busy peers, on the interval', () => {
    const { clock, picker, detector, log } = setup(10, {
      consecutive5xx: 0,
      successRate: { minimumHosts: 5, requestVolume: 100, stdevFactor: 1.9 },
      maxEjectionPercent: 50,
    });
    traffic(detector, [0.99, 0.98, 0.99, 1, 0.97, 0.99, 0.98, 1, 0.99, 0.6], 100);
    expect(picker.list).toEqual([]); // nothing happens before the interval
    clock.advance(10_000);
    expect(picker.list).toEqual([9]);
    expect(log).toEqual(['eject 9 success-rate 30000ms x1']);
  });

  it('does not judge with too few hosts or too little volume', () => {
    const few = setup(4, { consecutive5xx: 0, successRate: { minimumHosts: 5, requestVolume: 10 } });
    traffic(few.detector, [1, 1, 1, 0.1], 100);
    few.clock.advance(10_000);
    expect(few.picker.list).toEqual([]);

    const quiet = setup(10, { consecutive5xx: 0, successRate: { minimumHosts: 5, requestVolume: 100 } });
    traffic(quiet.detector, [1, 1, 1, 1, 1, 1, 1, 1, 1, 0.1], 99);
    quiet.clock.advance(10_000);
    expect(quiet.picker.list).toEqual([]);
    // Counts restart each interval: 99 + 99 over two intervals is still not 100 in one.
    traffic(quiet.detector, [1, 1, 1, 1, 1, 1, 1, 1, 1, 0.1], 99);
    quiet.clock.advance(10_000);
    expect(quiet.picker.list).toEqual([]);
  });
});

describe('OutlierDetector — failure percentage', () => {
  function traffic(d: OutlierDetector, failureShares: number[], volume: number): void {
    failureShares.forEach((share, i) => {
      for (let k = 0; k < volume; k++) d.record(i, k < share * volume ? 503 : 200);
    });
  }

  it('ejects every busy endpoint at or above the threshold, even when many fail alike', () => {
    const { clock, picker, detector, log } = setup(6, {
      consecutive5xx: 0,
      successRate: false,
      failurePercentage: { threshold: 85, minimumHosts: 5, requestVolume: 50 },
      maxEjectionPercent: 100,
      panicThresholdPercent: 0,
    });
    traffic(detector, [0.9, 0.86, 0.84, 0.1, 0, 0.85], 100);
    expect(picker.list).toEqual([]);
    clock.advance(10_000);
    expect(picker.list.sort()).toEqual([0, 1, 5]);
    expect(log).toContain('eject 0 failure-percentage 30000ms x1');
  });

  it('is off by default (as in Envoy) and needs enough hosts and volume', () => {
    const off = setup(5, { consecutive5xx: 0, successRate: false });
    traffic(off.detector, [1, 1, 1, 1, 1], 100);
    off.clock.advance(10_000);
    expect(off.picker.list).toEqual([]);

    const few = setup(4, { consecutive5xx: 0, successRate: false, failurePercentage: {} });
    traffic(few.detector, [1, 0, 0, 0], 100);
    few.clock.advance(10_000);
    expect(few.picker.list).toEqual([]);

    const quiet = setup(5, { consecutive5xx: 0, successRate: false, failurePercentage: { requestVolume: 50 } });
    traffic(quiet.detector, [1, 0, 0, 0, 0], 49);
    quiet.clock.advance(10_000);
    expect(quiet.picker.list).toEqual([]);
  });

  it('names a bad threshold', () => {
    expect(() => setup(3, { failurePercentage: { threshold: 120 } })).toThrow(/failurePercentage\.threshold/);
  });
});

describe('OutlierDetector — lifecycle', () => {
  it('carries ejections over a picker rebuild', () => {
    const { clock, detector } = setup(3, {
      baseEjectionTimeMs: 1_000,
      maxEjectionPercent: 100,
      panicThresholdPercent: 0,
    });
    repeat(detector, 2, 500, 5);
    repeat(detector, 1, 500, 3);
    clock.advance(400);
    const rebuilt = new FakePicker();
    // New set: [old 2, new endpoint, old 1]
    detector.rebind(rebuilt, 3, (i) => [2, -1, 1][i] as number);
    expect(rebuilt.list).toEqual([0]);
    repeat(detector, 2, 500, 2); // old 1's run of 3 continues
    expect(rebuilt.list).toEqual([0, 2]);
    clock.advance(600);
    expect(rebuilt.list).toEqual([2]);
  });

  it('ignores out-of-range indexes, validates options and stops its timers', () => {
    const { clock, detector, picker } = setup(2);
    detector.record(7, 500);
    detector.record(-1, 500);
    expect(picker.calls).toBe(0);
    expect(() => new OutlierDetector(picker, 2, { maxEjectionPercent: 120, intervalMs: 0 })).toThrow(
      InvalidArgumentError,
    );
    detector.dispose();
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('OutlierDetector — with a real picker', () => {
  it('takes a bad endpoint out of round robin, and a panic keeps the whole set serving', () => {
    const clock = new VirtualClock();
    const endpoints = ['a', 'b', 'c'].map((id) => ({ id }));
    const picker = createPicker('round_robin', endpoints);
    const detector = new OutlierDetector(picker, endpoints.length, {
      clock,
      maxEjectionPercent: 100,
      baseEjectionTimeMs: 1_000,
      successRate: false,
    });
    const picks = (n: number) => Array.from({ length: n }, () => picker.pick()?.id).sort();
    repeat(detector, 1, 503, 5);
    expect(picker.isEjected(1)).toBe(true);
    expect(new Set(picks(6))).toEqual(new Set(['a', 'c']));
    repeat(detector, 0, 503, 5); // 1 of 3 healthy: below the 50 % panic threshold
    expect(new Set(picks(6))).toEqual(new Set(['a', 'b', 'c']));
    clock.advance(1_000);
    expect([picker.isEjected(0), picker.isEjected(1), picker.isEjected(2)]).toEqual([false, false, false]);
    detector.dispose();
  });
});
