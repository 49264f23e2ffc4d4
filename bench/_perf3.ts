import { createPicker } from '../packages/core/src/balancers/index.js';
function best(f: (i: number) => number) { let sink = 0; for (let i = 0; i < 300000; i++) sink += f(i); let b = Infinity; for (let r = 0; r < 30; r++) { const t = process.hrtime.bigint(); for (let i = 0; i < 100000; i++) sink += f(i); b = Math.min(b, Number(process.hrtime.bigint() - t) / 100000); } return b.toFixed(1) + (sink === -1 ? '' : ''); }
for (const n of [10, 1000, 100000]) {
  const eps = Array.from({ length: n }, (_, i) => ({ id: `e${i}`, weight: 1 }));
  const lr = createPicker('least_request', eps), pe = createPicker('peak_ewma', eps);
  const d = createPicker('weighted_round_robin', Array.from({ length: Math.min(n, 1000) }, (_, i) => ({ id: `e${i}`, weight: i + 1 })));
  console.log(n, 'lr', best(() => lr.pickIndex()), 'peak', best(() => pe.pickIndex()), 'wrr-distinct(min(n,1000))', best(() => d.pickIndex()));
}
