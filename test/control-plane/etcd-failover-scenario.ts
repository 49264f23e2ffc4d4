/**
 * The high-availability scenario of the control plane on etcd, shared by the test
 * (test/control-plane/etcd-failover.test.ts, which asserts it) and the benchmark
 * (bench/control-plane/etcd-failover.ts, which reports it):
 *
 * three `weft control-plane --store etcd://…` processes on one 3-member etcd cluster on loopback;
 * under steady load — services registering (each through a `RegistrationClient` that then
 * heartbeats), rules being added, a registry source and a rules source following — the replica
 * every client lists first is killed (SIGKILL), then the etcd leader. Everything the control
 * plane acknowledged must still be there at the end, in the store and in both followers, whose
 * revisions must only have grown.
 */
import { type AdapterLogger, RegistrationClient, WeftRegistrySource, WeftRulesSource } from '@weft/adapters/weft';
import { type EtcdCluster, type EtcdMember, startEtcdCluster } from '../servers/etcd-cluster.js';
import { http } from '../servers/http.js';
import { listeningUrl, startWeft, type WeftProcess } from '../servers-cli/weft-process.js';

/** What the scenario saw. */
export interface FailoverReport {
  /** Registrations the control plane acknowledged (201) during the run. */
  readonly registrationsAcknowledged: number;
  /** Acknowledged registrations missing from the store at the end, though their clients kept heartbeating. */
  readonly registrationsLost: readonly string[];
  /** Acknowledged registrations missing from the registry source's last snapshot. */
  readonly registrationsMissingInSource: readonly string[];
  readonly rulesAcknowledged: number;
  /**
   * Acknowledgements in each phase — before the kills, after the replica's, after the etcd
   * leader's — registrations and rule writes: load kept flowing through every phase.
   */
  readonly acknowledgedByPhase: {
    readonly registrations: readonly [number, number, number];
    readonly rules: readonly [number, number, number];
  };
  /** Acknowledged rule ids missing from the store at the end. */
  readonly rulesLost: readonly string[];
  /** Acknowledged rule ids missing from the rules source's last rule set. */
  readonly rulesMissingInSource: readonly string[];
  /** Revisions the followers delivered that were not above the one before (must be none). */
  readonly revisionRegressions: number;
  /** Longest time one rule write took to be acknowledged (retries on other replicas included), ms, after each kill. */
  readonly writeFailoverMs: { readonly replica: number; readonly etcdMember: number };
  /** Time from each kill to the first registry-source snapshot with a registration acknowledged after it, ms. */
  readonly watchFailoverMs: { readonly replica: number; readonly etcdMember: number };
  /** Rule writes sent in all, retries on other replicas included. */
  readonly ruleWriteAttempts: number;
}

export interface FailoverOptions {
  /** Time under load before, between and after the kills, ms. Default 4 000. */
  readonly phaseMs?: number;
  /** Gap between two registrations, and between two rule writes, ms. Default 100. */
  readonly gapMs?: number;
}

const quiet: AdapterLogger = { warn: () => undefined };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The member etcd's cluster currently follows (killing it forces an election). */
async function leaderOf(cluster: EtcdCluster): Promise<EtcdMember> {
  for (const m of cluster.members) {
    const res = await http(`${m.endpoint}/v3/maintenance/status`, { method: 'POST', body: {} });
    const status = JSON.parse(res.body) as { header?: { member_id?: string }; leader?: string };
    if (status.leader !== undefined && status.leader === status.header?.member_id) return m;
  }
  throw new Error('the etcd cluster has no leader');
}

/** POSTs a rule to the first replica that takes it; resolves when one acknowledged it. */
async function addRule(urls: readonly string[], id: string, counter: { attempts: number }): Promise<void> {
  const rule = { id, destination: `svc-${id}`, route: { backends: [{ tags: ['v1'] }] } };
  for (;;) {
    for (const url of urls) {
      counter.attempts++;
      try {
        const res = await http(`${url}/v1/rules`, { method: 'POST', body: { rules: [rule] }, timeoutMs: 3_000 });
        if (res.status === 201) return;
        // 409: an earlier attempt whose answer was lost did land; the rule is stored.
        if (res.status === 409) return;
      } catch {
        // No answer: the next replica.
      }
    }
    await sleep(100);
  }
}

/** Ids in a list answer (`{instances: [...]}`, `{rules: [...]}`). */
async function storedIds(url: string, path: string, key: 'instances' | 'rules'): Promise<Set<string>> {
  const res = await http(`${url}${path}`, { timeoutMs: 5_000 });
  if (res.status !== 200) throw new Error(`GET ${path} on ${url}: ${res.status} ${res.body}`);
  const list = (JSON.parse(res.body) as Record<string, Array<{ id: string }>>)[key] ?? [];
  return new Set(list.map((x) => x.id));
}

export async function runEtcdFailover(options: FailoverOptions = {}): Promise<FailoverReport> {
  const phaseMs = options.phaseMs ?? 4_000;
  const gapMs = options.gapMs ?? 100;
  const cluster = await startEtcdCluster(3);
  const replicas: WeftProcess[] = [];
  const clients: RegistrationClient[] = [];
  let registrySource: WeftRegistrySource | undefined;
  let rulesSource: WeftRulesSource | undefined;
  try {
    const store = `etcd://${cluster.endpoints.map((e) => e.replace('http://', '')).join(',')}`;
    for (let i = 0; i < 3; i++)
      replicas.push(startWeft(['control-plane', '--port', '0', '--store', store, '--log-level', 'warn']));
    const urls = await Promise.all(replicas.map((r) => listeningUrl(r)));

    // The followers, as proxies run them: every replica listed, the first preferred.
    let regressions = 0;
    let lastRegistryRevision = -1;
    /** Instance ids of the registry source's latest snapshot, and when each id was first seen. */
    let sourceIds = new Set<string>();
    const firstSeen = new Map<string, number>();
    registrySource = new WeftRegistrySource({ url: urls, logger: quiet });
    registrySource.subscribe({
      next: (s) => {
        const revision = Number(s.revision ?? -1);
        if (revision <= lastRegistryRevision) regressions++;
        lastRegistryRevision = revision;
        sourceIds = new Set(s.instances.map((x) => x.id));
        for (const id of sourceIds) if (!firstSeen.has(id)) firstSeen.set(id, Date.now());
      },
      error: () => undefined,
    });
    let lastRulesRevision = -1;
    let ruleIds = new Set<string>();
    rulesSource = new WeftRulesSource({ url: urls, logger: quiet });
    rulesSource.subscribe({
      next: (u) => {
        const revision = u.revision ?? -1;
        if (revision <= lastRulesRevision) regressions++;
        lastRulesRevision = revision;
        ruleIds = new Set(u.ruleSet.rules.map((r) => r.id as string));
      },
      error: () => undefined,
    });

    // The load: a registration and a rule every gap, each retried until acknowledged.
    const counter = { attempts: 0 };
    const registered: Array<{ id: string; at: number }> = [];
    const rules: Array<{ id: string; startedAt: number; ackedAt: number }> = [];
    let running = true;
    let n = 0;
    const registering = (async () => {
      const pending: Promise<void>[] = [];
      while (running) {
        const port = 20_000 + n++;
        const client = new RegistrationClient({
          url: urls,
          registration: { service: `svc-${port % 7}`, endpoint: { host: '10.1.0.1', port }, tags: ['v1'] },
          logger: quiet,
        });
        clients.push(client);
        pending.push(
          client.start().then((instance) => {
            registered.push({ id: instance.id, at: Date.now() });
          }),
        );
        await sleep(gapMs);
      }
      await Promise.all(pending);
    })();
    let r = 0;
    const writing = (async () => {
      while (running) {
        const id = `rule-${r++}`;
        const startedAt = Date.now();
        await addRule(urls, id, counter);
        rules.push({ id, startedAt, ackedAt: Date.now() });
        await sleep(gapMs);
      }
    })();

    await sleep(phaseMs);
    const replicaKilledAt = Date.now();
    // The replica every client prefers dies without a word.
    replicas[0]?.child.kill('SIGKILL');
    await sleep(phaseMs);
    const leader = await leaderOf(cluster);
    const memberKilledAt = Date.now();
    await leader.process.kill();
    await sleep(phaseMs);
    running = false;
    await Promise.all([registering, writing]);

    // Convergence: the followers catch up with everything acknowledged.
    const survivors = urls.slice(1);
    const deadline = Date.now() + 15_000;
    const ackedRegistrations = registered.map((x) => x.id);
    const ackedRules = rules.map((x) => x.id);
    const missing = (ids: readonly string[], have: Set<string>) => ids.filter((id) => !have.has(id));
    for (;;) {
      if (
        (missing(ackedRegistrations, sourceIds).length === 0 && missing(ackedRules, ruleIds).length === 0) ||
        Date.now() > deadline
      )
        break;
      await sleep(100);
    }
    const storedInstances = await storedIds(survivors[0] as string, '/api/v1/instances', 'instances');
    const storedRules = await storedIds(survivors[1] as string, '/v1/rules', 'rules');

    const maxAckMs = (from: number, to: number) =>
      Math.max(
        0,
        ...rules.filter((x) => x.startedAt >= from - gapMs && x.startedAt < to).map((x) => x.ackedAt - x.startedAt),
      );
    const watchFailover = (killedAt: number) => {
      const after = registered.filter((x) => x.at > killedAt).sort((a, b) => a.at - b.at)[0];
      const seen = after === undefined ? undefined : firstSeen.get(after.id);
      return seen === undefined ? Number.POSITIVE_INFINITY : seen - killedAt;
    };
    const byPhase = (times: readonly number[]): [number, number, number] => [
      times.filter((t) => t < replicaKilledAt).length,
      times.filter((t) => t >= replicaKilledAt && t < memberKilledAt).length,
      times.filter((t) => t >= memberKilledAt).length,
    ];
    return {
      registrationsAcknowledged: ackedRegistrations.length,
      acknowledgedByPhase: {
        registrations: byPhase(registered.map((x) => x.at)),
        rules: byPhase(rules.map((x) => x.ackedAt)),
      },
      registrationsLost: missing(ackedRegistrations, storedInstances),
      registrationsMissingInSource: missing(ackedRegistrations, sourceIds),
      rulesAcknowledged: ackedRules.length,
      rulesLost: missing(ackedRules, storedRules),
      rulesMissingInSource: missing(ackedRules, ruleIds),
      revisionRegressions: regressions,
      writeFailoverMs: {
        replica: maxAckMs(replicaKilledAt, memberKilledAt),
        etcdMember: maxAckMs(memberKilledAt, Number.POSITIVE_INFINITY),
      },
      watchFailoverMs: { replica: watchFailover(replicaKilledAt), etcdMember: watchFailover(memberKilledAt) },
      ruleWriteAttempts: counter.attempts,
    };
  } finally {
    registrySource?.close();
    rulesSource?.close();
    // Heartbeats stop; deregistering thousands one by one would only slow the teardown.
    await Promise.allSettled(clients.map((c) => c.close()));
    for (const r of replicas) if (r.child.exitCode === null) r.child.kill('SIGKILL');
    await Promise.all(replicas.map((r) => r.exited));
    await cluster.stop();
  }
}
