/**
 * The Consul agent the TCP example registers in: one you give (`--consul <url>` or
 * `CONSUL_HTTP_ADDR`), or a `consul agent -dev` started for the run from the binary the test
 * servers' provisioning caches (`bash .ci/provision-servers.sh consul`), with every port on
 * loopback and all state in memory — the same command line test/servers/consul.ts runs.
 */
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { ProcessSet } from '../mesh/processes.js';
import { freePort, until } from '../mesh/wait.js';

/** The Consul HTTP API given on the command line or in `CONSUL_HTTP_ADDR`, as a URL; undefined when none is. */
export function givenConsul(argv: readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  const flag = argv.indexOf('--consul');
  const value = flag === -1 ? env.CONSUL_HTTP_ADDR : argv[flag + 1];
  if (value === undefined || value === '') return undefined;
  return (/^https?:\/\//.test(value) ? value : `http://${value}`).replace(/\/+$/, '');
}

const executable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/**
 * Where the consul binary is: `WEFT_CONSUL_BIN`, else `consul` on PATH, else the provisioning
 * cache (`$WEFT_SERVERS_CACHE` or ~/.cache/weft-servers, `bin/consul`). Returns the places looked
 * in when there is none.
 */
export function findConsul(env: NodeJS.ProcessEnv): { binary: string } | { searched: string[] } {
  const override = env.WEFT_CONSUL_BIN;
  if (override !== undefined && override !== '')
    return executable(override) ? { binary: override } : { searched: [`WEFT_CONSUL_BIN=${override}`] };
  const cache = env.WEFT_SERVERS_CACHE || join(homedir(), '.cache', 'weft-servers');
  const candidates = [
    ...(env.PATH ?? '')
      .split(delimiter)
      .filter((d) => d !== '')
      .map((d) => join(d, 'consul')),
    join(cache, 'bin', 'consul'),
  ];
  const binary = candidates.find(executable);
  return binary === undefined ? { searched: ['$PATH/consul', join(cache, 'bin', 'consul')] } : { binary };
}

/** What to say when there is neither a Consul address nor a binary. */
export const consulMissing = (searched: readonly string[]): string =>
  `consul (the registry every sidecar registers in) is not given and not found (looked in ${searched.join(', ')}): pass --consul <url> of a running agent (or set CONSUL_HTTP_ADDR), or build the binary with bash .ci/provision-servers.sh consul (or point WEFT_CONSUL_BIN at one)`;

/** Starts `consul agent -dev` on loopback as a process of `set`; resolves with its HTTP API URL once it has a leader. */
export async function startConsulAgent(set: ProcessSet, binary: string): Promise<string> {
  const [http, serfLan, serfWan, server] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const p = set.start(
    'consul',
    binary,
    [
      'agent',
      '-dev',
      '-node=weft-tcp-echo',
      '-bind=127.0.0.1',
      '-advertise=127.0.0.1',
      '-client=127.0.0.1',
      `-http-port=${http}`,
      '-https-port=-1',
      '-dns-port=-1',
      '-grpc-port=-1',
      '-grpc-tls-port=-1',
      `-serf-lan-port=${serfLan}`,
      `-serf-wan-port=${serfWan}`,
      `-server-port=${server}`,
      '-log-level=warn',
      '-hcl=performance { raft_multiplier = 1 }',
    ],
    // The sidecars deregister from it when they stop: it goes last.
    { stopLast: true },
  );
  const url = `http://127.0.0.1:${http}`;
  const elected = until(
    `consul to elect itself leader (its log: ${p.logFile})`,
    async () => {
      const leader = await fetch(`${url}/v1/status/leader`, { signal: AbortSignal.timeout(2000) });
      return leader.ok && ((await leader.json()) as string) !== '' ? true : undefined;
    },
    30_000,
  );
  const exited = p.exited.then((code) => {
    throw new Error(`consul exited with ${code}; its output (${p.logFile}):\n${p.log()}`);
  });
  await Promise.race([elected, exited]);
  exited.catch(() => undefined); // it exits when the set stops it, after this wait is long over
  return url;
}
