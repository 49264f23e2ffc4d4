import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveServerBinary } from './binaries.js';
import { http } from './http.js';
import { freePorts, LOOPBACK } from './ports.js';
import { type ServerLifecycle, ServerProcess } from './process.js';

export interface ConsulOptions {
  /**
   * false (default): `consul agent -dev`, all state in memory, so restart()
   * starts from an empty catalog/KV. true: a single bootstrapped server
   * (`-server -bootstrap-expect=1`) with its state in the data dir, so
   * restart() keeps services, KV and sessions.
   */
  persistent?: boolean;
  /** Node name (default `weft-test`). */
  node?: string;
  /** Extra command-line flags, e.g. `['-hcl', 'acl { enabled = true }']`. */
  extraArgs?: readonly string[];
  /** Default 30 s. */
  startTimeoutMs?: number;
}

export interface ConsulServer extends ServerLifecycle {
  /** HTTP API base URL, e.g. `http://127.0.0.1:40123`. */
  httpAddr: string;
  httpPort: number;
  /** `host:port` form (what CONSUL_HTTP_ADDR-style configs take). */
  httpHostPort: string;
  node: string;
  dataDir: string;
}

/** Starts a single Consul agent (server) with every port on free loopback ports; DNS and gRPC are disabled. */
export async function startConsul(options: ConsulOptions = {}): Promise<ConsulServer> {
  const binary = resolveServerBinary('consul');
  const persistent = options.persistent ?? false;
  const node = options.node ?? 'weft-test';
  const dataDir = await mkdtemp(join(tmpdir(), 'weft-consul-'));
  const [httpPort, serfLan, serfWan, serverPort] = (await freePorts(4)) as [number, number, number, number];
  const httpAddr = `http://${LOOPBACK}:${httpPort}`;
  const args = [
    'agent',
    ...(persistent ? ['-server', '-bootstrap-expect=1', '-ui=false'] : ['-dev']),
    `-data-dir=${join(dataDir, 'data')}`,
    `-node=${node}`,
    `-bind=${LOOPBACK}`,
    `-advertise=${LOOPBACK}`,
    `-client=${LOOPBACK}`,
    `-http-port=${httpPort}`,
    '-https-port=-1',
    '-dns-port=-1',
    '-grpc-port=-1',
    '-grpc-tls-port=-1',
    `-serf-lan-port=${serfLan}`,
    `-serf-wan-port=${serfWan}`,
    `-server-port=${serverPort}`,
    '-log-level=warn',
    // Fastest raft timings (the default multiplier 5 is for production WANs).
    '-hcl=performance { raft_multiplier = 1 }',
    ...(options.extraArgs ?? []),
  ];
  const logFile = join(dataDir, 'consul.log');
  const proc = new ServerProcess({
    name: `consul${persistent ? ' (persistent)' : ' (-dev)'}`,
    binary,
    args,
    logFile,
    readyTimeoutMs: options.startTimeoutMs ?? 30_000,
    ready: async () => {
      const leader = await http(`${httpAddr}/v1/status/leader`, { timeoutMs: 2_000 });
      if (leader.status !== 200 || JSON.parse(leader.body) === '') return false;
      // The agent registers its own node via anti-entropy right after the election.
      const self = await http(`${httpAddr}/v1/catalog/node/${encodeURIComponent(node)}`, { timeoutMs: 2_000 });
      return self.status === 200 && self.body !== 'null';
    },
  });
  await proc.start();

  let stopped = false;
  return {
    httpAddr,
    httpPort,
    httpHostPort: `${LOOPBACK}:${httpPort}`,
    node,
    dataDir,
    logFile,
    process: proc,
    async stop() {
      if (stopped) return;
      stopped = true;
      await proc.dispose();
      await rm(dataDir, { recursive: true, force: true });
    },
    async restart() {
      await proc.stop();
      await proc.start();
    },
    kill: () => proc.kill(),
    start: () => proc.start(),
    pause: () => proc.pause(),
    resume: () => proc.resume(),
  };
}
