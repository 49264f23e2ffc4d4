/**
 * `npm run bench:control-plane`: the control plane's figures in one run — registry heartbeats per
 * second against a bare fastify route (heartbeats.ts) and a rule change pushed to 1 000 SSE
 * watchers (rule-push.ts). Writes bench/results/control-plane.json.
 */
import { Report } from '../lib/results.js';
import { heartbeatBench } from './heartbeats.js';
import { rulePushBench } from './rule-push.js';

console.log(`Weft control-plane benchmarks on ${process.version}`);
const report = new Report('control-plane');
await heartbeatBench(report);
await rulePushBench(report);
console.log(`  → ${report.write()}`);
