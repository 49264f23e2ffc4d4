import { hashString, RingHashPicker, MaglevPicker } from '../packages/core/src/balancers/index.js';
const keys = Array.from({ length: 4096 }, (_, k) => `user-${k}-${(k * 2654435761) >>> 0}`);
function best(f: (i: number) => number) { let sink = 0; for (let i = 0; i < 300000; i++) sink += f(i); let b = Infinity; for (let r = 0; r < 30; r++) { const t = process.hrtime.bigint(); for (let i = 0; i < 100000; i++) sink += f(i); b = Math.min(b, Number(process.hrtime.bigint() - t) / 100000); } return b.toFixed(1) + (sink === -1 ? '' : ''); }
console.log('hash only', best((i) => hashString(keys[i & 4095]!, 0)));
console.log('key length only', best((i) => keys[i & 4095]!.length));
for (const n of [10, 1000, 100000]) {
  const eps = Array.from({ length: n }, (_, i) => ({ id: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}:8080` }));
  const ring = new RingHashPicker(eps); const mag = new MaglevPicker(eps);
  const r64 = new RingHashPicker(eps, { replicasPerWeight: 64 });
  console.log(n, 'ring', ring.ringSize, best((i) => ring.pickIndex(keys[i & 4095])), 'ring64', r64.ringSize, best((i) => r64.pickIndex(keys[i & 4095])), 'maglev', mag.tableSize, best((i) => mag.pickIndex(keys[i & 4095])));
}
