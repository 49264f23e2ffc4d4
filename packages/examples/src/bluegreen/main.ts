/**
 * Blue/green at 1:9, the linkerd/namerd scenario of the Go microservice stack, on Weft: three hops
 * (gateway → web → api → users), `users` deployed blue and green, a weight rule that sends one
 * request in ten to blue and nine to green, and one request followed across every hop by its
 * `x-request-id` in each hop's own access log, and the scenario's IP blocking with an
 * authorization policy at the gateway. In one process, on the embedded control plane;
 * the rules are set with the real `weft` command. Needs nothing but Node.
 *
 *   npm run -w @weft/examples bluegreen
 */
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createControlPlaneServer } from '@weft/servers';
import { Agent, fetch } from 'undici';
import { run, say, step } from '../mesh/script.js';
import { binomialNote, formatCounts, tally } from '../mesh/tally.js';
import { rulesRevision } from '../mesh/wait.js';
import { type StackAnswer, startStack } from './stack.js';

/** Requests sent under the 1:9 rule. */
const SPLIT_REQUESTS = 400;

async function main(): Promise<void> {
  step('1. A control plane on the embedded default, and the stack: web → api → users (blue, green)');
  const controlPlane = await createControlPlaneServer({});
  const cp = await controlPlane.listen({ host: '127.0.0.1', port: 0 });
  say(`   control plane ${cp}`);
  const stack = await startStack(cp);
  try {
    for (const i of stack.instances) say(`   ${i.service.padEnd(6)} ${i.version.padEnd(6)} ${i.address}`);
    say(`   entry (a gateway): ${stack.entry}`);

    const get = async (headers: Record<string, string> = {}): Promise<StackAnswer> => {
      const res = await fetch(stack.entry, { headers, signal: AbortSignal.timeout(10_000) });
      if (!res.ok) throw new Error(`${stack.entry} answered HTTP ${res.status}: ${await res.text()}`);
      return (await res.json()) as StackAnswer;
    };
    /** Runs a `weft` command, then waits until this process's proxies follow the rules it wrote. */
    const weft = async (args: readonly string[]): Promise<void> => {
      await run(cp, args);
      await stack.rulesAt(await rulesRevision(cp));
    };

    step('2. Every request to users blue, the version in service');
    await weft(['route-set', 'users', '--default', 'blue']);
    const before = await tally(50, async () => (await get()).users);
    say(`   50 requests: ${formatCounts(before)}`);

    step('3. Blue/green at 1:9: one request in ten to blue, nine to green');
    await weft(['route-set', 'users', '--default', 'blue', '--selector', 'green(weight=0.9)']);
    const split = await tally(SPLIT_REQUESTS, async () => (await get()).users);
    say(`   ${SPLIT_REQUESTS} requests: ${formatCounts(split)}`);
    say(`   blue expected ${binomialNote(SPLIT_REQUESTS, 0.1)}, green ${binomialNote(SPLIT_REQUESTS, 0.9)}`);

    step('4. One request across the three hops, by its x-request-id in each hop’s access log');
    const answer = await get();
    const id = answer.request_id;
    say(`   the gateway gave the request the id ${id}; web, then api, forwarded it (users ${answer.users} answered)`);
    const peer = (p: unknown): string => String(p).replace(/:$/, '');
    for (const [n, { hop, records }] of (await stack.recordsOf(id)).entries())
      for (const r of records)
        say(
          `   hop ${n + 1}, ${`${hop}'s log:`.padEnd(14)} ${peer(r.src).padEnd(14)} → ${peer(r.dst).padEnd(20)} ${r.status}  request_id ${r.request_id}`,
        );
    say(
      `   (web and api serve their records at /debug/access-log, as a sidecar's admin does: ${stack.accessLogUrls.join(', ')})`,
    );

    step('5. IP blocking at the gateway: an authorization policy denies one client address');
    const policies = join(tmpdir(), `weft-bluegreen-${process.pid}.json`);
    await writeFile(
      policies,
      JSON.stringify({
        policies: [{ id: 'block-lab', destination: '*', action: 'deny', from: [{ ipBlocks: ['127.0.0.2/32'] }] }],
      }),
    );
    await run(cp, ['authz-set', '-f', policies]);
    await stack.policiesAt(await rulesRevision(cp));
    /** A request to the entry from `localAddress`, one of this machine's loopback addresses. */
    const from = async (localAddress: string): Promise<string> => {
      const dispatcher = new Agent({ localAddress });
      try {
        const res = await fetch(stack.entry, { dispatcher, signal: AbortSignal.timeout(10_000) });
        const body = (await res.json()) as { code?: string; policy?: string };
        return `${res.status}${body.code === undefined ? '' : ` ${body.code} (policy ${body.policy})`}`;
      } finally {
        await dispatcher.close();
      }
    };
    say(`   from 127.0.0.2: ${await from('127.0.0.2')}`);
    say(`   from 127.0.0.3: ${await from('127.0.0.3')}`);
    await run(cp, ['authz-clear']);
    await stack.policiesAt(await rulesRevision(cp));
    say(`   after authz-clear, from 127.0.0.2: ${await from('127.0.0.2')}`);
  } finally {
    await stack.close();
    await controlPlane.close();
  }
  say('\nDone: every server and agent closed.');
}

await main();
