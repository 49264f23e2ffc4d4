import { createPicker, type LbPolicy } from '../packages/core/src/balancers/index.js';
const policy = process.argv[2] as LbPolicy; const n = Number(process.argv[3] ?? 1000);
const eps = Array.from({ length: n }, (_, i) => ({ id: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}:8080`, weight: policy === 'weighted_round_robin' ? 1 + (i % 4) : 1 }));
const p = createPicker(policy, eps);
const keys = Array.from({ length: 4096 }, (_, k) => `user-${k}-${(k * 2654435761) >>> 0}`);
let sink = 0;
const hashing = policy === 'ring_hash' || policy === 'maglev';
function run(N: number) { let s = 0; if (hashing) for (let i = 0; i < N; i++) s += p.pickIndex(keys[i & 4095]); else for (let i = 0; i < N; i++) s += p.pickIndex(); return s; }
run(200000);
let best = Infinity;
for (let r = 0; r < 40; r++) { const t = process.hrtime.bigint(); sink += run(100000); best = Math.min(best, Number(process.hrtime.bigint() - t) / 100000); }
console.log(policy, n, best.toFixed(1), 'ns (min)', sink > 0);
