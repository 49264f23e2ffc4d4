import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveServerBinary } from './binaries.js';
import { http } from './http.js';
import { freePorts, LOOPBACK } from './ports.js';
import { ServerProcess } from './process.js';

/** One member of an {@link EtcdCluster}. */
export interface EtcdMember {
  readonly name: string;
  /** Client URL, e.g. `http://127.0.0.1:40123`. */
  readonly endpoint: string;
  readonly process: ServerProcess;
}

/** A real multi-member etcd cluster on loopback, each member a separate process. */
export interface EtcdCluster {
  readonly members: readonly EtcdMember[];
  /** Every member's client URL, for a client that fails over between them. */
  readonly endpoints: readonly string[];
  /** Whether a member answers `/health` as healthy (it has a leader and can serve linearizable reads). */
  healthy(member: EtcdMember): Promise<boolean>;
  stop(): Promise<void>;
}

/**
 * Starts an etcd cluster of `size` members (default 3) on free loopback ports, each with its own
 * temp data dir, and resolves when every member reports healthy (a leader is elected). Uses
 * Debian's etcd (3.4), which CI installs. A member can be killed (`member.process.kill()`) and
 * started again on the same data dir (`member.process.start()`), rejoining the cluster.
 */
export async function startEtcdCluster(size = 3): Promise<EtcdCluster> {
  const binary = resolveServerBinary('etcd');
  const root = await mkdtemp(join(tmpdir(), 'weft-etcd-cluster-'));
  const ports = await freePorts(size * 2);
  const specs = Array.from({ length: size }, (_, i) => ({
    name: `m${i}`,
    endpoint: `http://${LOOPBACK}:${ports[2 * i]}`,
    peer: `http://${LOOPBACK}:${ports[2 * i + 1]}`,
  }));
  const initialCluster = specs.map((s) => `${s.name}=${s.peer}`).join(',');
  const healthy = async (m: { endpoint: string }): Promise<boolean> => {
    try {
      const res = await http(`${m.endpoint}/health`, { timeoutMs: 2_000 });
      return res.status === 200 && res.body.includes('"true"');
    } catch {
      return false;
    }
  };
  const members: EtcdMember[] = specs.map((s) => {
    const dataDir = join(root, s.name);
    const proc = new ServerProcess({
      name: `etcd cluster member ${s.name}`,
      binary,
      args: [
        `--name=${s.name}`,
        `--data-dir=${dataDir}`,
        `--listen-client-urls=${s.endpoint}`,
        `--advertise-client-urls=${s.endpoint}`,
        `--listen-peer-urls=${s.peer}`,
        `--initial-advertise-peer-urls=${s.peer}`,
        `--initial-cluster=${initialCluster}`,
        '--initial-cluster-state=new',
        '--initial-cluster-token=weft-test-cluster',
        // Short election timings: a killed leader is replaced in about a second, not ten.
        '--heartbeat-interval=100',
        '--election-timeout=1000',
        '--logger=zap',
        '--log-level=warn',
      ],
      logFile: join(root, `${s.name}.log`),
      ...(process.arch === 'arm64' ? { env: { ETCD_UNSUPPORTED_ARCH: 'arm64' } } : {}),
      readyTimeoutMs: 60_000,
      // A member alone is not healthy until a quorum exists: it is "started" once it answers at all.
      ready: async () => {
        try {
          await http(`${s.endpoint}/version`, { timeoutMs: 2_000 });
          return true;
        } catch {
          return false;
        }
      },
    });
    return { name: s.name, endpoint: s.endpoint, process: proc };
  });
  // All at once: each member waits for the others to form a quorum.
  await Promise.all(members.map((m) => m.process.start()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const states = await Promise.all(members.map(healthy));
    if (states.every(Boolean)) break;
    if (Date.now() > deadline) throw new Error(`etcd cluster not healthy after 60 s (logs in ${root})`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    members,
    endpoints: members.map((m) => m.endpoint),
    healthy,
    async stop() {
      await Promise.all(members.map((m) => m.process.dispose()));
      await rm(root, { recursive: true, force: true });
    },
  };
}
