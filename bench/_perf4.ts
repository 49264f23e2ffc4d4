import { SmoothSchedule } from '../packages/core/src/balancers/smooth-schedule.js';
for (const D of [16, 100, 1000]) {
  const w = new Float64Array(D).map((_, i) => i + 1);
  const s = new SmoothSchedule(w); const list = new Int32Array(D).map((_, i) => i); s.load(list, D);
  (SmoothSchedule as unknown as { competes: number }).competes = 0;
  const N = 200000; for (let i = 0; i < N; i++) s.next();
  console.log(D, 'competes/pick', ((SmoothSchedule as unknown as { competes: number }).competes / N).toFixed(2));
}
