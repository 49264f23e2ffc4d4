/**
 * TCP through sidecars, Consul Connect style (the hello-servicemesh-envoy scenario): a TCP echo
 * server (two instances) and two clients, one in Node and one in Java, each process next to a
 * `weft sidecar` that registers it in a real Consul agent. The clients' sidecars expose the
 * `echo` upstream on a local port (`--tcp-proxies echo:<port>`); the clients know only that port
 * and reach the echo instances through it, one connection per round, balanced over the instances
 * Consul lists. Then echo-2 stops: its sidecar deregisters it and the clients go on with echo-1.
 *
 *   npm run -w @weft/examples tcp-echo [-- --consul http://127.0.0.1:8500]
 *
 * Without `--consul` (or `CONSUL_HTTP_ADDR`) it starts `consul agent -dev` from the binary the
 * test servers' provisioning caches. Needs a JDK 11+ (java and javac) for the Java client.
 */
import { javaToolchain, MissingToolchainError, toolchainProblems } from '../bookinfo/toolchains.js';
import { ProcessSet, type StartedProcess } from '../mesh/processes.js';
import { runExample, say, step } from '../mesh/script.js';
import { formatCounts } from '../mesh/tally.js';
import { freePort, until } from '../mesh/wait.js';
import { commandLine, weftBin } from '../mesh/weft.js';
import { consulMissing, findConsul, givenConsul, startConsulAgent } from './consul.js';

const here = import.meta.dirname;
/**
 * Replies each client shows with both instances up: the chance that all of them come from one
 * instance (the balancer picks at random between two idle ones) is 2 × 2⁻²⁰, one in 500 000.
 */
const ROUNDS = 20;
/** Replies each client shows after echo-2 stops. */
const AFTER_STOP = 10;

let processes: ProcessSet | undefined;

/** `weft sidecar` arguments shared by every process of the example: Consul for the registry. */
const sidecarArgs = (consul: string, controller: string | undefined, extra: readonly string[]): string[] => [
  'sidecar',
  '--registry-type',
  'consul',
  '--registry-url',
  consul,
  ...(controller === undefined ? ['--no-proxy'] : ['--controller-url', controller, '--proxy-port', '0']),
  '--registry-ttl',
  '10s',
  '--endpoint-type',
  'tcp',
  '--endpoint-host',
  '127.0.0.1',
  '--admin-port',
  '0',
  '--log-level',
  'warn',
  ...extra,
];

/** Starts `weft <args>` in this folder (where the apps are) and waits for its "listening on" line. */
async function startWeft(set: ProcessSet, name: string, args: readonly string[]): Promise<StartedProcess> {
  const p = set.start(name, process.execPath, [weftBin, ...args], { cwd: here });
  await set.waitForLine(p, /listening on /);
  return p;
}

/** A client's replies so far: which echo instance answered each round, and the rounds without a reply. */
function repliesOf(p: StartedProcess): {
  answered: string[];
  failed: number;
  firstFailure: string | undefined;
  sample: string[];
} {
  const lines = p.log().split('\n');
  const answered = lines.flatMap((l) => /^\w+ #\d+ -> (echo-\d): /.exec(l)?.slice(1, 2) ?? []);
  const failures = lines.filter((l) => /^\w+ #\d+ !! /.test(l));
  return {
    answered,
    failed: failures.length,
    firstFailure: failures[0],
    sample: lines.filter((l) => / -> /.test(l)).slice(0, 2),
  };
}

/** Counts per echo instance: `echo-1=6  echo-2=6`. */
const countsOf = (answered: readonly string[]): Map<string, number> => {
  const counts = new Map<string, number>();
  for (const a of answered) counts.set(a, (counts.get(a) ?? 0) + 1);
  return counts;
};

/** An instance as Consul's health API lists it (the fields shown here). */
interface ConsulEntry {
  // Port 0 is left out of Consul's answer.
  Service: { Service: string; Address: string; Port?: number; Tags: string[] | null };
}

async function main(): Promise<void> {
  const consulGiven = givenConsul(process.argv, process.env);
  const found = consulGiven === undefined ? findConsul(process.env) : undefined;
  const problems = toolchainProblems([
    javaToolchain('the Java client', 'Client.java'),
    // Source launch compiles with the JDK's compiler: a JRE alone has java but cannot run Client.java.
    {
      command: 'javac',
      args: ['-version'],
      forWhat: 'the Java client, compiled in memory',
      install: 'default-jdk-headless',
    },
  ]);
  if (found !== undefined && 'searched' in found) problems.push(consulMissing(found.searched));
  if (problems.length > 0) throw new MissingToolchainError(problems, 'the TCP echo example');

  step('1. Consul, the registry; a weft controller for the sidecars’ proxies (no rules needed here)');
  processes = new ProcessSet('weft-tcp-echo');
  const set = processes;
  // Both at once: neither needs the other.
  const [consul, controller] = await Promise.all([
    consulGiven ?? startConsulAgent(set, (found as { binary: string } | undefined)?.binary ?? 'consul'),
    startWeft(set, 'controller', ['controller', '--port', '0', '--log-level', 'warn']),
  ]);
  say(`   consul          ${consul}${consulGiven === undefined ? '   (consul agent -dev, started for this run)' : ''}`);
  const controllerUrl = (await set.waitForLine(controller, /listening on (http:\/\/\S+)/))[1] as string;
  say(`   weft controller ${controllerUrl}`);

  step('2. Two echo instances, each registered in Consul by its weft sidecar once its port answers');
  const echoes = await Promise.all(
    ['echo-1', 'echo-2'].map(async (name) => {
      const port = await freePort();
      const args = sidecarArgs(consul, undefined, [
        '--service-name',
        'echo',
        '--service-tags',
        `instance=${name}`,
        '--endpoint-port',
        String(port),
        '--healthchecks',
        `tcp://127.0.0.1:${port}`,
        '--health-interval',
        '200ms',
        '--',
        'node',
        'echo-server.mjs',
        String(port),
        name,
      ]);
      say(`   $ ${commandLine(args)}`);
      return { name, port, process: await startWeft(set, name, args) };
    }),
  );
  /** The instances of `service` whose checks pass: what the sidecars' proxies balance over. */
  const passing = async (service: string): Promise<ConsulEntry['Service'][]> => {
    const res = await fetch(`${consul}/v1/health/service/${service}?passing=true`, {
      signal: AbortSignal.timeout(5000),
    });
    return ((await res.json()) as ConsulEntry[]).map((e) => e.Service);
  };
  await until('Consul to list both echo instances', async () =>
    (await passing('echo')).length === 2 ? true : undefined,
  );

  step('3. Two clients, Node and Java: each knows only the local port its sidecar exposes echo on');
  const clients = await Promise.all(
    [
      { lang: 'node', app: ['node', 'client.mjs'] },
      { lang: 'java', app: ['java', 'Client.java'] },
    ].map(async ({ lang, app }) => {
      const local = await freePort();
      const args = sidecarArgs(consul, controllerUrl, [
        // A service of its own (Weft's instance id is service, type and address: two clients that
        // listen nowhere, port 0, must differ by name), in the catalog to say who runs, not to be called.
        '--service-name',
        `echo-client-${lang}`,
        '--service-tags',
        `lang=${lang}`,
        '--endpoint-port',
        '0',
        '--tcp-proxies',
        `echo:${local}`,
        '--',
        ...app,
        String(local),
      ]);
      say(`   $ ${commandLine(args)}`);
      return { lang, local, app: [...app, String(local)], process: await startWeft(set, `client-${lang}`, args) };
    }),
  );
  for (const c of clients)
    await until(
      `${ROUNDS} replies to the ${c.lang} client (its log: ${c.process.logFile})`,
      async () => (repliesOf(c.process).answered.length >= ROUNDS ? true : undefined),
      60_000,
    );
  for (const c of clients) {
    const { answered, failed, sample, firstFailure } = repliesOf(c.process);
    const first = answered.slice(0, ROUNDS);
    say(`   ${c.lang} client (${c.app.join(' ')}): ${formatCounts(countsOf(first))}   of its first ${ROUNDS} replies`);
    for (const line of sample) say(`     ${line}`);
    if (failed > 0) say(`     (${failed} rounds got no reply, the client tried again: ${firstFailure})`);
  }

  step('4. In Consul, passing: every process, registered by its sidecar');
  for (const service of ['echo', 'echo-client-node', 'echo-client-java'])
    for (const s of await passing(service))
      say(`   ${s.Service.padEnd(17)} ${`${s.Address}:${s.Port ?? 0}`.padEnd(16)} ${(s.Tags ?? []).join(',')}`);

  step('5. echo-2 stops: its sidecar deregisters it from Consul, the clients go on with echo-1');
  const echo2 = echoes[1] as (typeof echoes)[number];
  echo2.process.child.kill('SIGTERM');
  const code = await echo2.process.exited;
  // Counted from here: the sidecar exits once it has deregistered echo-2 and its app has ended.
  const mark = clients.map((c) => repliesOf(c.process).answered.length);
  say(`   echo-2's sidecar exited (${code}); Consul lists ${(await passing('echo')).length} echo instance(s)`);
  for (const [i, c] of clients.entries())
    await until(`${AFTER_STOP} more replies to the ${c.lang} client`, async () =>
      repliesOf(c.process).answered.length > (mark[i] as number) + AFTER_STOP ? true : undefined,
    );
  for (const [i, c] of clients.entries()) {
    // From the round after the mark on: a reply echo-2 sent just before it ended may be printed just after.
    const after = repliesOf(c.process).answered.slice((mark[i] as number) + 1, (mark[i] as number) + 1 + AFTER_STOP);
    say(`   ${c.lang} client: ${formatCounts(countsOf(after))}   of its ${after.length} replies after the stop`);
  }

  step('6. Stop: the clients’ sidecars stop their apps and deregister them, then the echo, controller, Consul');
}

await runExample(() => processes, main);
