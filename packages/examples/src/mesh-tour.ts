/**
 * Weft mesh tour: the data plane on real HTTP on loopback. Three `reviews` instances (two v1,
 * one v2) register in the embedded registry; plain global `fetch` goes through MeshAgent after
 * the README's three lines; rules split traffic by weight and by cookie, inject a delay and an
 * abort; a killed instance costs no failed call; a call that cannot succeed says why, attempt by
 * attempt; and the sidecar serves the same mesh to services in other languages.
 *
 *   npm run demo          (the quickstart, then this tour)
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Discovery, MemoryRegistry } from '@weft/core';
import { MeshAgent, MeshRequestError, rulesRouter, Sidecar } from '@weft/proxy';
import { Agent, request, setGlobalDispatcher } from 'undici';

const say = (text: string) => console.log(text);
const step = (title: string) => console.log(`\n── ${title} ${'─'.repeat(Math.max(0, 70 - title.length))}`);

/** A `reviews` instance: answers with its version and address. */
async function reviewsServer(version: string): Promise<Server> {
  const server = createServer((req, res) => {
    const port = (server.address() as AddressInfo).port;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ version, instance: `127.0.0.1:${port}`, path: req.url }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const portOf = (server: Server) => (server.address() as AddressInfo).port;

/** A rule's Cookie header pattern that matches the `user=<name>` cookie. */
const cookieUser = (name: string) => `^(.*?;)?(user=${name})(;.*)?$`;

/** `n` calls through global fetch; counts of what `key` picks out of each JSON answer. */
async function tally(n: number, key: 'version' | 'instance', init?: RequestInit): Promise<string> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const res = await fetch(`http://reviews/api/v1/reviews/${i}`, init);
    const body = (await res.json()) as Record<string, string>;
    const k = res.status === 200 ? (body[key] as string) : `HTTP ${res.status}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort()
    .map(([k, c]) => `${k}=${c}`)
    .join('  ');
}

async function main(): Promise<void> {
  step('1. Three reviews instances on loopback, registered in the embedded registry');
  const servers = [await reviewsServer('v1'), await reviewsServer('v1'), await reviewsServer('v2')];
  const registry = new MemoryRegistry();
  for (const [i, server] of servers.entries())
    await registry.register({
      service: 'reviews',
      endpoint: { type: 'http', host: '127.0.0.1', port: portOf(server) },
      tags: [i < 2 ? 'version=v1' : 'version=v2'],
    });
  const discovery = new Discovery({ sources: [registry.asSource()] });
  await discovery.ready();
  say(`   reviews: ${servers.map((s, i) => `127.0.0.1:${portOf(s)} (${i < 2 ? 'v1' : 'v2'})`).join(', ')}`);

  step("2. The README's three lines: global fetch is on the mesh");
  const router = rulesRouter([]);
  const mesh = new MeshAgent({ discovery, router, identity: { name: 'productpage', tags: ['version=v1'] } });
  setGlobalDispatcher(mesh);
  say(`   fetch('http://reviews/…') × 300, no rules (least-request): ${await tally(300, 'instance')}`);

  step('3. Version routing: 25 % to v2 by weight, and user jason always to v2');
  const routing = [
    {
      id: 'jason-to-v2',
      priority: 2,
      destination: 'reviews',
      match: { headers: { Cookie: cookieUser('jason') } },
      route: { backends: [{ tags: ['version=v2'] }] },
    },
    {
      id: 'canary',
      priority: 1,
      destination: 'reviews',
      route: { backends: [{ tags: ['version=v2'], weight: 0.25 }, { tags: ['version=v1'] }] },
    },
  ];
  router.update(routing);
  say(`   anonymous × 400:  ${await tally(400, 'version')}   (binomial: v2 ≈ 100 ± 26 at 3σ)`);
  say(`   user=jason × 50:  ${await tally(50, 'version', { headers: { cookie: 'user=jason' } })}`);

  step('4. Fault injection: a 300 ms delay for jason, a 503 abort for half of bob');
  router.update([
    {
      id: 'jason-delay',
      priority: 10,
      destination: 'reviews',
      match: { headers: { Cookie: cookieUser('jason') } },
      actions: [{ action: 'delay', duration: 0.3, probability: 1 }],
    },
    {
      id: 'bob-abort',
      priority: 9,
      destination: 'reviews',
      match: { headers: { Cookie: cookieUser('bob') } },
      actions: [{ action: 'abort', return_code: 503, probability: 0.5 }],
    },
  ]);
  const t0 = performance.now();
  await (await fetch('http://reviews/api/v1/reviews/1', { headers: { cookie: 'user=jason' } })).arrayBuffer();
  say(`   jason's call took ${(performance.now() - t0).toFixed(0)} ms`);
  say(`   bob × 200:  ${await tally(200, 'version', { headers: { cookie: 'user=bob' } })}`);
  say(`   anyone else × 50:  ${await tally(50, 'version')}   (no delay, no abort)`);
  router.update([]);

  step('5. Kill a v1 instance without telling the registry: no failed call');
  const victim = servers[0] as Server;
  const victimPort = portOf(victim);
  victim.closeAllConnections();
  await new Promise<void>((resolve) => victim.close(() => resolve()));
  const before = mesh.metrics?.snapshot().reviews;
  say(`   killed 127.0.0.1:${victimPort}; fetch × 300:  ${await tally(300, 'instance')}`);
  const after = mesh.metrics?.snapshot().reviews;
  say(
    `   retries ${(after?.retries ?? 0) - (before?.retries ?? 0)}, ejections ${(after?.ejections ?? 0) - (before?.ejections ?? 0)}` +
      ' (connect failures are retried on another instance; outlier ejection then stops picking the dead one)',
  );

  step('6. A call that cannot succeed says why, attempt by attempt');
  await registry.register({ service: 'details', endpoint: { type: 'http', host: '127.0.0.1', port: victimPort } });
  // Discovery hears of the registration asynchronously: wait for it, not for a guessed time.
  while (discovery.endpoints('details').instances.length === 0)
    await new Promise((resolve) => discovery.once('change', resolve));
  try {
    await fetch('http://details/details/0');
  } catch (err) {
    // fetch wraps dispatcher errors as "fetch failed"; the mesh's error is the cause.
    const cause = (err as Error).cause;
    if (cause instanceof MeshRequestError) {
      say(`   ${cause.code} (a proxy answers ${cause.status}), request ${cause.requestId}:`);
      say(`   ${cause.message}`);
    } else throw err;
  }

  step('7. The sidecar: the same mesh and rules for services in any language');
  router.update(routing);
  const sidecar = new Sidecar({
    discovery,
    router,
    identity: { name: 'gateway' },
    port: 0,
    admin: { port: 0 },
    accessLog: false,
  });
  const { port, adminPort } = await sidecar.listen();
  // 127.0.0.1 is not a mesh service, so these calls pass through MeshAgent to a plain Agent.
  const viaSidecar = await request(`http://127.0.0.1:${port}/reviews/api/v1/reviews/7`, {
    headers: { cookie: 'user=jason' },
  });
  say(`   GET http://127.0.0.1:<sidecar>/reviews/api/v1/reviews/7 (user=jason) → ${viaSidecar.statusCode}`);
  say(`   ${await viaSidecar.body.text()}`);
  const unknown = await request(`http://127.0.0.1:${port}/ratings/1`);
  say(`   GET /ratings/1 → ${unknown.statusCode} ${await unknown.body.text()}`);
  const explained = (await (
    await request(
      `http://127.0.0.1:${adminPort}/debug/explain?service=reviews&path=/api/v1/reviews/7&header.cookie=user%3Djason`,
    )
  ).body.json()) as {
    explanation: {
      routeRules: { rule: { id: string }; outcome: string }[];
      choice: { backends: { tags: string[]; share: number }[] };
    };
  };
  const { routeRules, choice } = explained.explanation;
  say(
    `   admin /debug/explain (user=jason): ${routeRules.map((r) => `${r.rule.id} ${r.outcome}`).join(', ')}` +
      ` → ${choice.backends.map((b) => `${b.tags.join(',')} ×${b.share}`).join(', ')}`,
  );
  const endpoints = (await (await request(`http://127.0.0.1:${adminPort}/debug/endpoints`)).body.json()) as {
    services: Record<string, { endpoints: { address: string; tags: string[]; breaker: string }[] }>;
  };
  for (const [service, view] of Object.entries(endpoints.services))
    say(
      `   admin /debug/endpoints, ${service} as the sidecar has used it: ${view.endpoints.map((e) => `${e.address} [${e.tags.join(',')}] breaker ${e.breaker}`).join(' | ')}`,
    );

  await sidecar.drain();
  setGlobalDispatcher(new Agent());
  await mesh.close();
  discovery.close();
  await registry.close();
  for (const server of servers.slice(1)) {
    server.closeAllConnections();
    server.close();
  }
  say('\nDone. Next: packages/proxy/README.md, and `npm test`.');
}

await main();
