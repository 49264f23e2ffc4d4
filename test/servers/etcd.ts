import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveServerBinary } from './binaries.js';
import { http } from './http.js';
import { freePorts, LOOPBACK } from './ports.js';
import { type ServerLifecycle, ServerProcess } from './process.js';

export interface EtcdOptions {
  /**
   * `debian`: Debian's etcd-server 3.4 (/usr/bin/etcd), the only one that can
   * serve the v2 API. `etcd35`: etcd >= 3.5 (3.6.x) built by
   * `.ci/provision-servers.sh`. Default: `debian`.
   */
  binary?: 'debian' | 'etcd35';
  /** Serve the v2 keys API (`/v2/keys`) too; only the 3.4 `debian` binary has it. */
  enableV2?: boolean;
  /** Reuse an existing data dir (not removed by stop()). Default: a fresh temp dir. */
  dataDir?: string;
  /** Extra command-line flags. */
  extraArgs?: readonly string[];
  /** Default 30 s. */
  startTimeoutMs?: number;
}

export interface EtcdServer extends ServerLifecycle {
  /** Client URL, e.g. `http://127.0.0.1:40123` (v3 gRPC, v3 JSON gateway under /v3/, v2 under /v2/). */
  endpoint: string;
  clientPort: number;
  peerPort: number;
  dataDir: string;
  /** Server version as reported by `/version`, e.g. `3.4.23`. */
  version: string;
  /** Current store revision (v3). */
  revision(): Promise<number>;
  /** Compacts the v3 keyspace up to `revision` (default: current revision). Returns the revision compacted to. */
  compact(revision?: number): Promise<number>;
}

async function v3(endpoint: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await http(`${endpoint}/v3/${path}`, { method: 'POST', body });
  if (res.status !== 200) throw new Error(`etcd POST /v3/${path} -> HTTP ${res.status}: ${res.body}`);
  return JSON.parse(res.body) as Record<string, unknown>;
}

/** Starts a single-member etcd on free loopback ports with a temp data dir. */
export async function startEtcd(options: EtcdOptions = {}): Promise<EtcdServer> {
  const flavour = options.binary ?? 'debian';
  const enableV2 = options.enableV2 ?? false;
  if (enableV2 && flavour !== 'debian') {
    throw new Error(
      "startEtcd: enableV2 needs binary: 'debian' (etcd 3.4); etcd 3.6 (etcd35) has no v2 API and no --enable-v2 flag",
    );
  }
  const binary = resolveServerBinary(flavour === 'debian' ? 'etcd' : 'etcd35');
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'weft-etcd-')));
  const [clientPort, peerPort] = (await freePorts(2)) as [number, number];
  const endpoint = `http://${LOOPBACK}:${clientPort}`;
  const peerUrl = `http://${LOOPBACK}:${peerPort}`;
  const name = 'weft-test';
  const args = [
    `--name=${name}`,
    `--data-dir=${join(dataDir, 'member-data')}`,
    `--listen-client-urls=${endpoint}`,
    `--advertise-client-urls=${endpoint}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=${name}=${peerUrl}`,
    '--initial-cluster-state=new',
    '--initial-cluster-token=weft-test',
    '--logger=zap',
    '--log-level=warn',
    ...(flavour === 'etcd35' ? ['--unsafe-no-fsync=true'] : []),
    ...(enableV2 ? ['--enable-v2=true'] : []),
    ...(options.extraArgs ?? []),
  ];
  const logFile = join(dataDir, 'etcd.log');
  let version = '';
  const proc = new ServerProcess({
    name: `etcd (${flavour})`,
    binary,
    args,
    logFile,
    // etcd 3.4 refuses to start on arm64 unless told the arch is accepted.
    ...(process.arch === 'arm64' ? { env: { ETCD_UNSUPPORTED_ARCH: 'arm64' } } : {}),
    readyTimeoutMs: options.startTimeoutMs ?? 30_000,
    ready: async () => {
      const health = await http(`${endpoint}/health`, { timeoutMs: 2_000 });
      if (health.status !== 200 || !health.body.includes('"true"')) return false;
      const ver = await http(`${endpoint}/version`, { timeoutMs: 2_000 });
      version = (JSON.parse(ver.body) as { etcdserver?: string }).etcdserver ?? '';
      if (enableV2) {
        const v2 = await http(`${endpoint}/v2/keys/`, { timeoutMs: 2_000 });
        if (v2.status !== 200) return false;
      }
      return true;
    },
  });
  await proc.start();

  let stopped = false;
  const server: EtcdServer = {
    endpoint,
    clientPort,
    peerPort,
    dataDir,
    get version() {
      return version;
    },
    logFile,
    process: proc,
    async stop() {
      if (stopped) return;
      stopped = true;
      await proc.dispose();
      if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
    },
    async restart() {
      await proc.stop();
      await proc.start();
    },
    kill: () => proc.kill(),
    start: () => proc.start(),
    pause: () => proc.pause(),
    resume: () => proc.resume(),
    async revision() {
      const status = await v3(endpoint, 'maintenance/status', {});
      const header = status.header as { revision?: string } | undefined;
      return Number(header?.revision ?? 0);
    },
    async compact(revision?: number) {
      const rev = revision ?? (await server.revision());
      await v3(endpoint, 'kv/compaction', { revision: String(rev), physical: true });
      return rev;
    },
  };
  return server;
}
