import { createPicker, type LbPolicy } from '../packages/core/src/balancers/index.js';
const policies: LbPolicy[] = ['round_robin', 'weighted_round_robin', 'random', 'least_request', 'peak_ewma', 'ring_hash', 'maglev'];
const keys = Array.from({ length: 4096 }, (_, k) => `user-${k}-${(k * 2654435761) >>> 0}`);
for (const k of keys) k.charCodeAt(0);
{ let s = 0; const f = (N: number) => { for (let i = 0; i < N; i++) s = (s + keys[i & 4095]!.length) | 0; }; f(2e6); console.log('MARK start control'); f(5e6); console.log('MARK end control', s > 0); }
for (const distinct of [false, true]) for (const policy of policies) {
  if (distinct && policy !== 'weighted_round_robin') continue;
  const eps = Array.from({ length: 1000 }, (_, i) => ({ id: `e${i}`, weight: distinct ? i + 1 : 1 + (i % 3) }));
  const p = createPicker(policy, eps);
  let sink = 0;
  const run = (N: number) => { for (let i = 0; i < N; i++) { const x = p.pickIndex(keys[i & 4095]); p.onStart(x); p.onEnd(x, 5); sink = (sink + x) | 0; if ((i & 1023) === 0) { p.setEjected(i % 1000, true); p.setEjected(i % 1000, false); } } };
  run(2_000_000);
  console.log(`MARK start ${policy}${distinct ? ' distinct' : ''}`);
  run(5_000_000);
  console.log(`MARK end ${policy} ${sink > 0}`);
}
