/**
 * What the mesh engine itself costs per call, apart from the network: the same request through
 * MeshEngine (rules none, default retries, budget, breaker, outlier detection, metrics, request
 * id) and straight to the same fake pool, which answers synchronously. Prints the difference in
 * ns per call (median of 7 rounds). A development tool for the hot path, not a headline figure.
 *
 * `npx tsx --conditions=@weft/source bench/proxy/engine-overhead.ts`
 * (MESH_OPTIONS='{"requestId":false}' and the like to see what a feature costs).
 */

import type { Dispatcher } from 'undici';
import { Discovery, ManualSource } from '../../packages/core/src/index.js';
import { MeshEngine } from '../../packages/proxy/src/engine/engine.js';
import { reviewsInstance } from './instance.mjs';

const source = new ManualSource('bench', [reviewsInstance(1)]);
const discovery = new Discovery({ sources: [source] });
const ctl = {
  pause() {},
  resume() {},
  abort() {},
  aborted: false,
  paused: false,
  reason: null,
  rawHeaders: null,
  rawTrailers: null,
} as unknown as Dispatcher.DispatchController;
const resHeaders = { 'content-type': 'application/json', 'content-length': '105' };
const chunk = Buffer.alloc(105);
// A pool that answers at once, synchronously, so only the engine's cost is measured.
const fakePool = {
  dispatch(_o: Dispatcher.DispatchOptions, h: Dispatcher.DispatchHandler) {
    h.onRequestStart?.(ctl, {});
    h.onResponseStart?.(ctl, 200, resHeaders, 'OK');
    h.onResponseData?.(ctl, chunk);
    h.onResponseEnd?.(ctl, {});
    return true;
  },
  close: async () => {},
  destroy: async () => {},
};
const extra = JSON.parse(process.env.MESH_OPTIONS ?? '{}');
const engine = new MeshEngine({ discovery, identity: { name: 'bench' }, ...extra }, () => fakePool);
let done = 0;
const handler: Dispatcher.DispatchHandler = {
  onRequestStart() {},
  onResponseStart() {},
  onResponseData() {},
  onResponseEnd() {
    done++;
  },
  onResponseError(_c, e) {
    throw e;
  },
};
const opts = {
  origin: 'http://reviews',
  path: '/api/v1/reviews/1',
  method: 'GET',
  headers: undefined,
} as unknown as Dispatcher.DispatchOptions;
const direct = () => fakePool.dispatch(opts, handler);
const viaEngine = () => engine.call('reviews', opts, handler);
function time(f: () => unknown, n: number) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) f();
  return Number(process.hrtime.bigint() - t0) / n;
}
for (let r = 0; r < 3; r++) {
  time(direct, 200_000);
  time(viaEngine, 200_000);
}
const res: number[] = [];
for (let r = 0; r < 7; r++) res.push(time(viaEngine, 500_000) - time(direct, 500_000));
res.sort((a, b) => a - b);
const ns = (i: number) => (res[i] as number).toFixed(0);
console.log(`engine overhead per call: median ${ns(3)} ns (min ${ns(0)}, max ${ns(6)}), ${done} calls`);
process.exit(0);
