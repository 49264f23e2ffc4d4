/**
 * `npm run bench:control-plane`: the control plane's figures in one run — registry heartbeats per
 * second against a bare fastify route (heartbeats.ts) and a rule change pushed to 1 000 SSE
 * watchers (rule-push.ts), and a replica and the etcd leader killed under load (etcd-failover.ts). Writes bench/results/control-plane.json.
 */
import { Report } from '../lib/results.js';
import { etcdFailoverBench } from './etcd-failover.js';
import { heartbeatBench } from './heartbeats.js';
import { rulePushBench } from './rule-push.js';

console.log(`Weft control-plane benchmarks on ${process.version}`);
const report = new Report('control-plane');
await heartbeatBench(report);
await rulePushBench(report);
await etcdFailoverBench(report);
console.log(`  → ${report.write()}`);
