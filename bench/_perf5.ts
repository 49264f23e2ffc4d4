import { SmoothSchedule } from '../packages/core/src/balancers/smooth-schedule.js';
const D = 1000;
const w = new Float64Array(D).map((_, i) => i + 1);
const s = new SmoothSchedule(w); const list = new Int32Array(D).map((_, i) => i); s.load(list, D);
let sink = 0; for (let i = 0; i < 300000; i++) sink += s.next();
let b = Infinity; for (let r = 0; r < 20; r++) { const t = process.hrtime.bigint(); for (let i = 0; i < 100000; i++) sink += s.next(); b = Math.min(b, Number(process.hrtime.bigint() - t) / 100000); }
console.log('next() ns', b.toFixed(1), sink > 0);
