/**
 * helloworld: Amalgam8's first example, as processes. One `weft control-plane`; helloworld v1
 * and v2 (tiny Node servers, ./app.mjs) each run by a `weft sidecar` that registers it; a
 * `weft gateway` in front. The operator commands then route all traffic to v1, send 25 % to v2,
 * and move v2 from a 10 % canary to 100 % — each step measured over requests through the gateway.
 *
 *   npm run -w @weft/examples helloworld
 */
import { join } from 'node:path';
import { ProcessSet } from '../mesh/processes.js';
import { run, runExample, say, step } from '../mesh/script.js';
import { binomialNote, formatCounts, tally } from '../mesh/tally.js';
import { freePort, registeredInstances, rulesReached, until } from '../mesh/wait.js';
import { type ProxyProcess, startControlPlane, startGateway, startSidecar } from '../mesh/weft.js';

/** Requests per measurement: at 25 %, 3σ is ±26 around 100. */
const REQUESTS = 400;

let processes: ProcessSet | undefined;

async function main(): Promise<void> {
  step('1. A control plane, helloworld v1 and v2 each behind a weft sidecar, a gateway in front');
  processes = new ProcessSet('weft-helloworld');
  const set = processes;
  const controlPlane = await startControlPlane(set);
  say(`   weft control-plane     ${controlPlane}`);
  const versions = ['v1', 'v2'] as const;
  const sidecars: ProxyProcess[] = await Promise.all(
    versions.map(async (version) => {
      const port = await freePort();
      const sidecar = await startSidecar(set, controlPlane, {
        name: `helloworld-${version}`,
        service: 'helloworld',
        tags: [`version=${version}`],
        appPort: port,
        app: [process.execPath, join(import.meta.dirname, 'app.mjs')],
        env: { VERSION: version, PORT: String(port) },
      });
      say(`   helloworld ${version}          node app.mjs on 127.0.0.1:${port}, weft sidecar admin ${sidecar.admin}`);
      return sidecar;
    }),
  );
  const gateway = await startGateway(set, controlPlane);
  say(`   weft gateway           ${gateway.proxy}   (admin ${gateway.admin})`);
  await until('both helloworld instances to be registered', async () =>
    (await registeredInstances(controlPlane, 'helloworld')) === 2 ? true : undefined,
  );
  await run(controlPlane, ['service-list']);

  const admins = [gateway.admin, ...sidecars.map((s) => s.admin)];
  const hello = async (): Promise<string> => {
    const res = await fetch(`${gateway.proxy}/helloworld/hello`);
    const body = (await res.json()) as { version?: string };
    return res.ok && body.version !== undefined ? body.version : `HTTP ${res.status}`;
  };
  // Without rules the gateway balances over every instance; wait until it knows both.
  await until('the gateway to reach both versions', async () =>
    (await tally(20, hello)).size === 2 ? true : undefined,
  );

  /** Applies what the commands changed, then measures the split over REQUESTS requests. */
  const measure = async (v2Percent: number): Promise<void> => {
    await rulesReached(controlPlane, admins);
    const counts = await tally(REQUESTS, hello);
    const expected =
      v2Percent === 0 || v2Percent === 100 ? '' : `   (v2 expected ${binomialNote(REQUESTS, v2Percent / 100)})`;
    say(`   ${REQUESTS} requests through the gateway, v2 at ${v2Percent} %: ${formatCounts(counts)}${expected}`);
  };

  step('2. The default rule: all traffic to v1');
  await run(controlPlane, ['route-set', 'helloworld', '--default', 'v1']);
  await measure(0);

  step('3. 25 % of the traffic to v2, by weight');
  await run(controlPlane, ['route-set', 'helloworld', '--default', 'v1', '--selector', 'v2(weight=0.25)']);
  await measure(25);

  step('4. A canary: v2 from 10 % to 100 % with traffic-start and traffic-step');
  say('   (a canary starts from a single default version, so first all traffic back to v1)');
  await run(controlPlane, ['route-set', 'helloworld', '--default', 'v1']);
  await run(controlPlane, ['traffic-start', 'helloworld', 'v2', '--amount', '10']);
  await measure(10);
  await run(controlPlane, ['traffic-step', 'helloworld']);
  await measure(20);
  await run(controlPlane, ['traffic-step', 'helloworld', '--amount', '50']);
  await measure(50);
  await run(controlPlane, ['traffic-step', 'helloworld', '--amount', '100']);
  await measure(100);
  await run(controlPlane, ['route-list']);

  step('5. Stop: each sidecar stops its app and deregisters it, then the gateway and the control plane');
}

await runExample(() => processes, main);
