/**
 * `control_plane.registry_etcd_failover_lost_registrations` (target 0) and the failover times:
 * three `weft control-plane` processes on one 3-member etcd cluster on loopback; under
 * registration, heartbeat and rule-change load, the replica every client prefers is killed
 * (SIGKILL), then the etcd leader. The scenario is the test's (test/control-plane/
 * etcd-failover-scenario.ts): the test asserts it, this reports its figures.
 *
 * Figures: registrations and rules acknowledged and lost (in the store, and in the followers'
 * last state); the longest a rule write took to be acknowledged after each kill (retried on the
 * next replica by the writer, as the operator CLI does); the time from each kill to the registry
 * source's first snapshot holding a registration made after it (a watch that failed over and
 * resumed). `BENCH_PHASE_MS` (default 5 000): load before, between and after the kills.
 *
 * Run alone: `npx tsx --conditions=@weft/source bench/control-plane/etcd-failover.ts`, or from
 * `npm run bench:control-plane`. Needs etcd (Debian's etcd-server, as the tests).
 */
import { pathToFileURL } from 'node:url';
import { runEtcdFailover } from '../../test/control-plane/etcd-failover-scenario.js';
import { Report } from '../lib/results.js';

export async function etcdFailoverBench(report: Report): Promise<void> {
  const phaseMs = Number(process.env.BENCH_PHASE_MS ?? 5_000);
  const r = await runEtcdFailover({ phaseMs });
  const context = {
    registrations_acknowledged: r.registrationsAcknowledged,
    rules_acknowledged: r.rulesAcknowledged,
    missing_in_followers: r.registrationsMissingInSource.length + r.rulesMissingInSource.length,
    revision_regressions: r.revisionRegressions,
  };
  report.add({
    name: 'control_plane.registry_etcd_failover_lost_registrations',
    value: r.registrationsLost.length,
    unit: 'count',
    target: '<= 0',
    ...context,
  });
  report.add({
    name: 'control_plane.etcd_failover_lost_rules',
    value: r.rulesLost.length,
    unit: 'count',
    target: '<= 0',
  });
  report.add({
    name: 'control_plane.etcd_failover_write_ms.replica_killed',
    value: r.writeFailoverMs.replica,
    unit: 'ms',
  });
  report.add({
    name: 'control_plane.etcd_failover_write_ms.etcd_leader_killed',
    value: r.writeFailoverMs.etcdMember,
    unit: 'ms',
  });
  report.add({
    name: 'control_plane.etcd_failover_watch_ms.replica_killed',
    value: r.watchFailoverMs.replica,
    unit: 'ms',
  });
  report.add({
    name: 'control_plane.etcd_failover_watch_ms.etcd_leader_killed',
    value: r.watchFailoverMs.etcdMember,
    unit: 'ms',
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const report = new Report('control-plane-failover');
  await etcdFailoverBench(report);
  console.log(`  → ${report.write()}`);
}
