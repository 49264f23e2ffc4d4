import { Discovery, instanceId, ManualSource } from '@weft/core';
import { MeshAgent } from '@weft/proxy';
import { type Dispatcher, Pool, request } from 'undici';
const port = Number(process.argv[2]);
const value = `127.0.0.1:${port}`;
const source = new ManualSource('bench', [{ id: instanceId('reviews', 'http', value), namespace: 'default', service: 'reviews', endpoint: { type: 'http', value, host: '127.0.0.1', port }, tags: ['version=v1'], metadata: {}, status: 'UP', ttl: 30, registeredAt: 0, lastHeartbeat: 0 }]);
const extra = JSON.parse(process.env.MESH_OPTIONS ?? '{}');
const mesh = new MeshAgent({ discovery: new Discovery({ sources: [source] }), ...extra });
const pool = new Pool(`http://127.0.0.1:${port}`);
async function slice(d: Dispatcher, url: string, ms: number): Promise<{ n: number; cpu: number }> {
  let n = 0; const deadline = performance.now() + ms; const c0 = process.cpuUsage();
  const loop = async () => { while (performance.now() < deadline) { const res = await request(url, { dispatcher: d }); await res.body.dump(); n++; } };
  await Promise.all(Array.from({ length: 100 }, loop));
  const c = process.cpuUsage(c0); return { n, cpu: c.user + c.system };
}
const P = `http://127.0.0.1:${port}/api/v1/reviews/1`, M = 'http://reviews/api/v1/reviews/1';
await slice(pool, P, 1000); await slice(mesh, M, 1000);
const tot = { p: { n: 0, cpu: 0 }, m: { n: 0, cpu: 0 } };
for (let i = 0; i < Number(process.env.SLICES ?? 20); i++) {
  const a = await slice(pool, P, 250); const b = await slice(mesh, M, 250);
  tot.p.n += a.n; tot.p.cpu += a.cpu; tot.m.n += b.n; tot.m.cpu += b.cpu;
}
const pc = tot.p.cpu / tot.p.n, mc = tot.m.cpu / tot.m.n;
console.log(JSON.stringify({ cfg: process.env.MESH_OPTIONS ?? '{}', poolCpuUs: +pc.toFixed(1), meshCpuUs: +mc.toFixed(1), cpuRatio: +(mc / pc).toFixed(3), rpsRatio: +(tot.m.n / tot.p.n).toFixed(3) }));
process.exit(0);
