/**
 * The Weft tour: the whole system in one process, on the embedded default. A control plane
 * (`createControlPlaneServer({})`: memory stores, no credentials) and an all-Node bookinfo that
 * registers itself in it and follows its rules; then version routing, fault injection that
 * exposes bookinfo's conflicting timeouts and the version that fixes them, a canary, what the
 * proxies logged, and a resilience recipe (ratings crashing) judged over those records. Needs
 * nothing but Node; `--keep` keeps it running for you to try (Ctrl-C stops).
 *
 *   npm run -w @weft/examples tour [-- --keep]
 */
import { type AccessLogRecord, MemoryAccessLog } from '@weft/proxy';
import { createControlPlaneServer } from '@weft/servers';
import { describeProduct, loadProduct, reviewsVersion } from '../bookinfo/product.js';
import { say, step } from '../mesh/script.js';
import { binomialNote, formatCounts, tally } from '../mesh/tally.js';
import { startNodeBookinfo } from './node-bookinfo.js';
import { runTourRecipe, TOUR_RECIPE_TEXT } from './recipe.js';

const keep = process.argv.includes('--keep');

/** The `user=<name>` cookie as Amalgam8's rules match it. */
const cookie = (user: string) => ({ Cookie: `^(.*?;)?(user=${user})(;.*)?$` });
const toV1 = (service: string) => ({
  id: `${service}-default`,
  priority: 1,
  destination: service,
  route: { backends: [{ tags: ['version=v1'] }] },
});
const allToV1 = ['productpage', 'details', 'reviews', 'ratings'].map(toV1);
const jasonTo = (version: string) => ({
  id: `jason-to-reviews-${version}`,
  priority: 2,
  destination: 'reviews',
  match: { headers: cookie('jason') },
  route: { backends: [{ tags: [`version=${version}`] }] },
});
const delayForJason = (from: string) => ({
  id: `jason-7s-delay-from-reviews-${from}`,
  priority: 10,
  destination: 'ratings',
  match: { source: { name: 'reviews', tags: [`version=${from}`] }, headers: cookie('jason') },
  actions: [{ action: 'delay', duration: 7, probability: 1, tags: ['version=v1'] }],
});

/**
 * Access-log records of one request, the gateway's first and each call after the call that led
 * to it (start times alone have only millisecond precision): by depth in the call chain, then start.
 */
function inCallOrder(records: readonly AccessLogRecord[]): AccessLogRecord[] {
  const service = (peer: string): string => peer.split(':')[0] as string;
  const depth = new Map<string, number>([['gateway', 0]]);
  for (let pass = 0; pass < records.length; pass++)
    for (const r of records) {
      const d = depth.get(service(r.src));
      if (d !== undefined && !depth.has(service(r.dst))) depth.set(service(r.dst), d + 1);
    }
  const depthOf = (r: AccessLogRecord): number => depth.get(service(r.src)) ?? records.length;
  return [...records].sort((a, b) => depthOf(a) - depthOf(b) || a.start_time.localeCompare(b.start_time));
}

async function main(): Promise<void> {
  step('1. A control plane on the embedded default: registry and rules controller, one port');
  const controlPlane = await createControlPlaneServer({});
  const cp = await controlPlane.listen({ host: '127.0.0.1', port: 0 });
  say(`   ${cp}   (what \`npx weft control-plane\` runs; memory stores, no credentials)`);

  step('2. bookinfo in Node: six instances register themselves; a gateway in front');
  const accessLog = new MemoryAccessLog();
  const bookinfo = await startNodeBookinfo(cp, accessLog);
  for (const i of bookinfo.instances) say(`   ${i.service.padEnd(11)} ${i.version}  ${i.address}`);
  say(`   product page: ${bookinfo.productApi}`);

  /** Replaces every rule, and waits until this process's proxies have them. */
  const setRules = async (rules: readonly unknown[]): Promise<void> => {
    await fetch(`${cp}/v1/rules`, { method: 'DELETE' });
    const res = await fetch(`${cp}/v1/rules`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rules }),
    });
    const body = (await res.json()) as { revision?: number };
    if (!res.ok) throw new Error(`the controller refused the rules: ${JSON.stringify(body)}`);
    await bookinfo.rulesAt(body.revision ?? 0);
  };
  const show = async (user?: string): Promise<void> => {
    const { view, ms } = await loadProduct(bookinfo.productApi, user);
    say(`   ${(user ?? 'anonymous').padEnd(9)} → ${String(ms).padStart(4)} ms  ${describeProduct(view)}`);
  };

  step('3. Version routing: every service to v1, then user jason to reviews v2');
  say('   rules: all to v1        (weft route-set <svc> --default v1)');
  await setRules(allToV1);
  await show();
  say(`   rules: + jason to v2    (weft route-set reviews --default v1 --selector 'v2(user="jason")')`);
  await setRules([...allToV1, jasonTo('v2')]);
  await show();
  await show('jason');

  step('4. Fault injection: ratings 7 s late for jason, from reviews v2 — the timeouts conflict');
  say(
    "   rule: delay 7 s         (weft action-add --source reviews:v2 --destination ratings --cookie user=jason --action 'v1(1->delay=7)')",
  );
  await setRules([...allToV1, jasonTo('v2'), delayForJason('v2')]);
  await show('jason');
  say('   productpage gave up on reviews at 3 s; reviews v2 would have waited 10 s for ratings.');
  say('   reviews v3 waits 2.5 s: jason to v3, under the same delay:');
  await setRules([...allToV1, jasonTo('v3'), delayForJason('v3')]);
  await show('jason');
  say('   and without the delay:');
  await setRules([...allToV1, jasonTo('v3')]);
  await show('jason');

  step('5. A canary: 25 % of everyone else to reviews v3 too');
  say('   rule: v3 25 %           (weft traffic-start reviews v3 --amount 25)');
  await setRules([
    ...allToV1.filter((r) => r.destination !== 'reviews'),
    jasonTo('v3'), // traffic-start shifts the default route; jason's rule stays
    {
      id: 'reviews-default',
      priority: 1,
      destination: 'reviews',
      route: { backends: [{ tags: ['version=v3'], weight: 0.25 }, { tags: ['version=v1'] }] },
    },
  ]);
  const counts = await tally(200, async () => reviewsVersion((await loadProduct(bookinfo.productApi)).view));
  say(`   200 pages, v3 at 25 %: ${formatCounts(counts)}   (v3 expected ${binomialNote(200, 0.25)})`);

  step("6. What the proxies logged: one of jason's pages, hop by hop, under its request id");
  const requestId = `tour-${process.pid}-jason`;
  await loadProduct(bookinfo.productApi, 'jason', requestId);
  const hops = inCallOrder(accessLog.records.filter((r) => r.request_id === requestId));
  for (const r of hops)
    say(
      `   ${r.src.replace(/:$/, '').padEnd(22)} → ${r.dst.padEnd(20)} ${r.status} ${String(Math.round(r.request_time * 1000)).padStart(3)} ms  GET ${r.path}`,
    );
  say(
    `   (x-request-id ${requestId}, forwarded by each service; a record per call: src, dst, status, times, upstream_host…)`,
  );

  step('7. A resilience recipe: does bookinfo survive ratings crashing? (weft recipe-run)');
  for (const line of TOUR_RECIPE_TEXT) say(`   ${line}`);
  say('   the proxies’ own access-log records are the evidence: each Node service serves its own at /debug/access-log');
  const passed = await runTourRecipe(cp, bookinfo);
  say(
    passed
      ? '   reviews v3 gives up on ratings at once and shows the page without stars: graceful degradation, checked.'
      : '   the recipe found bookinfo not resilient to ratings crashing (see the FAIL lines).',
  );

  if (keep) {
    say(
      `\nRunning until Ctrl-C. Try:\n   curl ${bookinfo.productApi}\n   curl -H 'cookie: user=jason' ${bookinfo.productApi}`,
    );
    say(`   npx weft route-list --controller-url ${cp}`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
  }
  await bookinfo.close();
  await controlPlane.close();
  say(
    '\nDone: everything ran in this process and is closed. Next: npm run -w @weft/examples helloworld | bookinfo | tcp-echo | bluegreen.',
  );
}

await main();
