/**
 * Issue 15's high-availability proof: three `weft control-plane` processes on one 3-member etcd
 * cluster; under registration, heartbeat and rule-change load the replica every client prefers is
 * killed, then the etcd leader. Nothing acknowledged may be lost, the followers must fail over
 * and resume (their revisions only grow), and they must converge on everything acknowledged.
 * The same scenario is the benchmark figure control_plane.registry_etcd_failover_lost_registrations
 * (bench/control-plane/etcd-failover.ts).
 */
import { expect, it } from 'vitest';
import { runEtcdFailover } from './etcd-failover-scenario.js';

it('loses no acknowledged registration or rule when a replica and then the etcd leader are killed under load', async () => {
  const report = await runEtcdFailover({ phaseMs: 3_000 });
  const seen = JSON.stringify(report);
  // Load kept flowing, and was acknowledged, in every phase: before the kills and after each.
  for (const count of [...report.acknowledgedByPhase.registrations, ...report.acknowledgedByPhase.rules])
    expect(count, seen).toBeGreaterThan(0);
  expect(report.registrationsLost, seen).toEqual([]);
  expect(report.rulesLost, seen).toEqual([]);
  expect(report.registrationsMissingInSource, seen).toEqual([]);
  expect(report.rulesMissingInSource, seen).toEqual([]);
  expect(report.revisionRegressions, seen).toBe(0);
  // The followers moved to a surviving replica and saw registrations made after each kill.
  expect(report.watchFailoverMs.replica).toBeLessThan(10_000);
  expect(report.watchFailoverMs.etcdMember).toBeLessThan(10_000);
}, 90_000);
