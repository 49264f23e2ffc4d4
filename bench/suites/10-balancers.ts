/**
 * Load-balancer pick cost (`npm run bench -- balancers`).
 *
 * Every policy is timed at 10, 1 000 and 100 000 endpoints. A plain JS-array round robin over the
 * same 1 000 endpoint objects is measured in the same run as the baseline, and each 1 000-endpoint
 * figure carries `ratio_vs_plain_rr` (the machines are noisy; ratios travel better than ns).
 *
 * - `pick_ns.<policy>.<n>`: one `pick()` (hashing pickers: of a key drawn from 4 096 pre-built
 *   strings, hashing included). For the P2C pickers this is `pickIndex()` alone.
 * - `request_ns.<policy>.<n>` (P2C pickers): pick + `onStart` + `onEnd` of the request started 64
 *   picks earlier — the whole per-request cost with 64 requests in flight, as in real traffic.
 * - `ring_build_ms.1000`, `maglev_build_ms.1000`: building the picker, median of several builds.
 *
 * Endpoints have equal weights except for weighted round robin, which gets weights 1–4 (equal
 * weights would make it plain round robin); `pick_ns.weighted_round_robin_distinct.1000` gives it
 * 1 000 distinct weights, its worst case.
 */

import { loadavg } from 'node:os';
import {
  type BalancerEndpoint,
  createPicker,
  type LbPolicy,
  type Picker,
} from '../../packages/core/src/balancers/index.js';
import type { Suite } from '../core.js';
import type { BenchResult, Report } from '../lib/results.js';
import { blackhole, type NsPerOp, nsPerOp } from '../lib/timing.js';

const SIZES = [10, 1_000, 100_000] as const;
/** Figure names per policy (BENCHMARKS.md calls least_request `p2c_least_request`). */
const FIGURE: Record<LbPolicy, string> = {
  round_robin: 'round_robin',
  weighted_round_robin: 'weighted_round_robin',
  random: 'random',
  least_request: 'p2c_least_request',
  peak_ewma: 'peak_ewma',
  ring_hash: 'ring_hash',
  maglev: 'maglev',
};
const POLICIES = Object.keys(FIGURE) as LbPolicy[];
/** Targets of the 1 000-endpoint figures, from BENCHMARKS.md. */
const TARGET: Record<LbPolicy, string> = {
  round_robin: '<= 50',
  weighted_round_robin: '<= 50',
  random: '',
  least_request: '<= 50',
  peak_ewma: '<= 50',
  ring_hash: '<= 150',
  maglev: '<= 150',
};
const FEEDBACK = new Set<LbPolicy>(['least_request', 'peak_ewma']);

function endpoints(n: number, weight?: (i: number) => number): BalancerEndpoint[] {
  return Array.from({ length: n }, (_, i) =>
    weight
      ? { id: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}:8080`, weight: weight(i) }
      : { id: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}:8080` },
  );
}

/** 4 096 varied request keys (user ids, session-like tokens), flattened before timing. */
function buildKeys(): string[] {
  const keys: string[] = [];
  for (let k = 0; k < 4096; k++) {
    const token = ((k * 2654435761) >>> 0).toString(36);
    keys.push(k % 3 === 0 ? `user-${k}` : k % 3 === 1 ? `session:${token}:${k}` : `${token}${token}`);
  }
  for (const key of keys) key.charCodeAt(key.length - 1); // flatten any cons-strings now
  return keys;
}

function pickerFor(policy: LbPolicy, n: number): Picker {
  const eps = policy === 'weighted_round_robin' ? endpoints(n, (i) => 1 + (i % 4)) : endpoints(n);
  return createPicker(policy, eps);
}

/** Median and fastest batch, in ns per op. */
interface Timing {
  value: number;
  min: number;
}

function timing(result: NsPerOp): Timing {
  return { value: result.median, min: Number(result.min.toFixed(2)) };
}

/**
 * The op timed for `pick_ns`. Each policy gets its own function literal on purpose: V8 shares type
 * feedback between closures made from one literal, so a single `() => picker.pick()` reused for
 * all seven picker classes would turn megamorphic and charge the later policies for the earlier.
 */
function pickOp(picker: Picker, keys: string[]): (i: number) => unknown {
  const mask = keys.length - 1;
  switch (picker.policy as LbPolicy) {
    case 'round_robin':
      return () => picker.pick();
    case 'weighted_round_robin':
      return () => picker.pick();
    case 'random':
      return () => picker.pick();
    case 'least_request':
      return () => picker.pickIndex();
    case 'peak_ewma':
      return () => picker.pickIndex();
    case 'ring_hash':
      return (i) => picker.pick(keys[i & mask]);
    case 'maglev':
      return (i) => picker.pick(keys[i & mask]);
  }
}

function timePick(picker: Picker, keys: string[]): Timing {
  return timing(nsPerOp(pickOp(picker, keys)));
}

/**
 * pick + onStart, ending the request started 64 picks earlier: 64 requests stay in flight.
 * One literal per policy, for the reason given at {@link pickOp}.
 */
function timeRequest(picker: Picker): Timing {
  const inFlight = new Int32Array(64).fill(-1);
  const latencies = new Float64Array([3, 5, 8, 13, 4, 6, 9, 21]);
  const leastRequest = (i: number): number => {
    const index = picker.pickIndex();
    picker.onStart(index);
    const previous = inFlight[i & 63] as number;
    inFlight[i & 63] = index;
    if (previous >= 0) picker.onEnd(previous, latencies[previous & 7] as number);
    return index;
  };
  const peakEwma = (i: number): number => {
    const index = picker.pickIndex();
    picker.onStart(index);
    const previous = inFlight[i & 63] as number;
    inFlight[i & 63] = index;
    if (previous >= 0) picker.onEnd(previous, latencies[previous & 7] as number);
    return index;
  };
  return timing(nsPerOp(picker.policy === 'peak_ewma' ? peakEwma : leastRequest));
}

function msPerBuild(build: () => unknown, runs = 11): number {
  const times: number[] = [];
  build(); // warm-up
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    blackhole(build());
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1] as number;
}

/** The reference: round robin over a plain array of the endpoint objects. */
function plainRoundRobin(n: number): Timing {
  const list = endpoints(n);
  let cursor = 0;
  const result = nsPerOp(() => {
    const e = list[cursor];
    cursor = cursor + 1 === list.length ? 0 : cursor + 1;
    return e;
  });
  return timing(result);
}

export const suite: Suite = {
  name: 'balancers',
  run(report: Report) {
    const keys = buildKeys();
    const baseline = plainRoundRobin(1_000);
    // Shared 2-core machines: the load average says how much to trust the medians (`min` is the
    // quietest batch, closer to the intrinsic cost).
    report.add({
      name: 'baseline_pick_ns.plain_rr.1000',
      ...baseline,
      unit: 'ns',
      load_average_1m: Number(loadavg()[0]?.toFixed(2)),
    });

    const add = (name: string, t: Timing, n: number, extra: Partial<BenchResult> = {}): void => {
      // The min-to-min ratio is the steadier one on a loaded machine; both are recorded.
      const ratio =
        n === 1_000
          ? {
              ratio_vs_plain_rr: Number((t.value / baseline.value).toFixed(2)),
              min_ratio_vs_plain_rr: Number((t.min / baseline.min).toFixed(2)),
            }
          : {};
      report.add({ name, ...t, unit: 'ns', ...extra, ...ratio });
    };

    for (const policy of POLICIES) {
      const figure = FIGURE[policy];
      for (const n of SIZES) {
        const target = n === 1_000 && TARGET[policy] !== '' ? { target: TARGET[policy] } : {};
        add(`pick_ns.${figure}.${n}`, timePick(pickerFor(policy, n), keys), n, target);
        if (FEEDBACK.has(policy)) {
          add(`request_ns.${figure}.${n}`, timeRequest(pickerFor(policy, n)), n, { note: 'pick + onStart + onEnd' });
        }
      }
    }

    const distinct = createPicker(
      'weighted_round_robin',
      endpoints(1_000, (i) => i + 1),
    );
    add('pick_ns.weighted_round_robin_distinct.1000', timePick(distinct, keys), 1_000, {
      note: '1 000 distinct weights (tournament path)',
    });

    const eps = endpoints(1_000);
    report.add({ name: 'ring_build_ms.1000', value: msPerBuild(() => createPicker('ring_hash', eps)), unit: 'ms' });
    report.add({
      name: 'maglev_build_ms.1000',
      value: msPerBuild(() => createPicker('maglev', eps)),
      unit: 'ms',
      target: '<= 50',
    });
  },
};
