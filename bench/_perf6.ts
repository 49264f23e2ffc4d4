import { SmoothSchedule } from '../packages/core/src/balancers/smooth-schedule.js';
const out: string[] = [];
for (const D of [8, 16, 32, 64, 128, 256, 1000]) {
  const w = new Float64Array(D).map((_, i) => i + 1);
  const s = new SmoothSchedule(w); const list = new Int32Array(D).map((_, i) => i); s.load(list, D);
  let sink = 0; for (let i = 0; i < 200000; i++) sink += s.next();
  let b = Infinity; for (let r = 0; r < 15; r++) { const t = process.hrtime.bigint(); for (let i = 0; i < 50000; i++) sink += s.next(); b = Math.min(b, Number(process.hrtime.bigint() - t) / 50000); }
  out.push(`${D}:${b.toFixed(0)}`);
}
console.log(process.env.SCAN_LIMIT, out.join('  '));
