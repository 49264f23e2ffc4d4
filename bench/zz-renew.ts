import { MemoryRegistry } from '../packages/core/src/registry/index.js';
import { InstanceRecord, freezeView } from '../packages/core/src/registry/record.js';
const N = 100_000;
const registry = new MemoryRegistry();
const ids: string[] = [];
for (let i = 0; i < N; i++) ids.push((await registry.register({ service: `svc-${i % 100}`, endpoint: { type: 'http', value: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:8080` } })).id);
const mode = process.argv[2] ?? 'current';
const proto = InstanceRecord.prototype as unknown as { heartbeat(now: number): unknown; view: any; expiresAt: number; ttlMs: number };
if (mode === 'noview') proto.heartbeat = function (this: any, now: number) { this.expiresAt = now + this.ttlMs; return this.view; };
if (mode === 'fresh') proto.heartbeat = function (this: any, now: number) { this.expiresAt = now + this.ttlMs; return freezeView(this.view, this.view.status, now); };
if (mode === 'plain') proto.heartbeat = function (this: any, now: number) { this.expiresAt = now + this.ttlMs; const v = this.view; return { id: v.id, namespace: v.namespace, service: v.service, endpoint: v.endpoint, tags: v.tags, metadata: v.metadata, status: v.status, ttl: v.ttl, registeredAt: v.registeredAt, lastHeartbeat: now }; };
const res: number[] = [];
for (let r = 0; r < 8; r++) {
  let k = 0;
  const t0 = performance.now();
  const M = 1_000_000;
  for (let i = 0; i < M; i++) { await registry.renew(ids[k] as string); k = k + 1 === N ? 0 : k + 1; }
  res.push((performance.now() - t0) / M * 1e6);
}
res.sort((a, b) => a - b);
console.log(mode, 'min', res[0]!.toFixed(0), 'median', res[4]!.toFixed(0), 'ns/op');
