/**
 * bookinfo, polyglot: Amalgam8's classic flows on the mesh, as processes. productpage (Python),
 * details (Go), reviews v1/v2/v3 (Java) each behind a `weft sidecar`, ratings (Node) registered
 * in-process, a `weft gateway` in front, one `weft control-plane`. Then, with the operator
 * commands: everything to v1; jason to reviews v2; a 7 s delay for jason between reviews v2 and
 * ratings, which exposes the conflicting timeouts; reviews v3, which fixes them; a canary of v3.
 *
 *   npm run -w @weft/examples bookinfo        (needs python3, go and java 11+ on PATH)
 */
import { runEach, runExample, runTogether, say, step } from '../mesh/script.js';
import { binomialNote, formatCounts, tally } from '../mesh/tally.js';
import { describeProduct, loadProduct, reviewsVersion } from './product.js';
import { type Bookinfo, startBookinfo } from './start.js';

/** Pages per canary measurement: at 10 %, 3σ is ±13 around 20. */
const PAGES = 200;

let bookinfo: Bookinfo | undefined;

/** `weft action-add`: a 7 s delay on every call from `reviews` (one version) to ratings v1, for user jason. */
function delayRatingsForJason(reviews: 'reviews:v2' | 'reviews:v3'): string[] {
  return [
    'action-add',
    '--source',
    reviews,
    '--destination',
    'ratings',
    '--cookie',
    'user=jason',
    '--action',
    'v1(1->delay=7)',
  ];
}

async function main(): Promise<void> {
  step('1. bookinfo: Python, Go, Java behind weft sidecars, Node in-process, one control plane');
  say('   starting: weft control-plane; productpage (python3), details (go build), reviews v1/v2/v3 (java');
  say('   Reviews.java) each under weft sidecar; ratings (Node, RegistrationClient); weft gateway …');
  const started = performance.now();
  bookinfo = await startBookinfo({ routeToV1: false });
  const { urls, proxies } = bookinfo;
  say(`   ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  say(`   control plane   ${urls.controlPlane}`);
  say(`   product page    ${urls.productpage}   (JSON: ${urls.productApi})`);
  for (const p of proxies) say(`   ${p.name.padEnd(15)} proxy ${p.proxy}  admin ${p.admin}`);
  await runEach(urls.controlPlane, ['service-list']);

  const show = async (user?: string): Promise<void> => {
    await bookinfo?.rulesApplied();
    const { view, ms } = await loadProduct(urls.productApi, user);
    say(`   ${(user ?? 'anonymous').padEnd(9)} → ${String(ms).padStart(4)} ms  ${describeProduct(view)}`);
  };

  step('2. Every service to v1');
  await runTogether(
    urls.controlPlane,
    ...['productpage', 'details', 'reviews', 'ratings'].map((s) => ['route-set', s, '--default', 'v1']),
  );
  await show();
  await show('jason');

  step('3. User jason to reviews v2 (black stars), everyone else stays on v1');
  await runEach(urls.controlPlane, ['route-set', 'reviews', '--default', 'v1', '--selector', 'v2(user="jason")']);
  await show();
  await show('jason');

  step('4. A 7 s delay for jason between reviews v2 and ratings: the timeouts conflict');
  await runEach(urls.controlPlane, delayRatingsForJason('reviews:v2'));
  await show('jason');
  say('   productpage gives up on reviews after 3 s, but reviews v2 would wait up to 10 s for ratings:');
  say('   the page loses its reviews although reviews itself would have answered, just later.');
  await show();

  step('5. reviews v3 waits only 2.5 s for ratings: with the same delay, jason keeps his reviews');
  await runEach(
    urls.controlPlane,
    ['route-set', 'reviews', '--default', 'v1', '--selector', 'v3(user="jason")'],
    delayRatingsForJason('reviews:v3'),
  );
  await show('jason');
  say('   reviews v3 gives up on ratings first and still answers within productpage’s 3 s.');
  await runEach(urls.controlPlane, ['action-clear', 'ratings']);
  await show('jason');

  step('6. A canary of reviews v3 for everyone: 10 → 20 → 50 → 100 %');
  const measure = async (percent: number): Promise<void> => {
    await bookinfo?.rulesApplied();
    const counts = await tally(PAGES, async () => reviewsVersion((await loadProduct(urls.productApi)).view));
    const expected = percent === 100 ? '' : `   (v3 expected ${binomialNote(PAGES, percent / 100)})`;
    say(`   ${PAGES} pages, v3 at ${percent} %: ${formatCounts(counts)}${expected}`);
  };
  await runEach(urls.controlPlane, ['traffic-start', 'reviews', 'v3', '--amount', '10']);
  await measure(10);
  await runEach(urls.controlPlane, ['traffic-step', 'reviews']);
  await measure(20);
  await runEach(urls.controlPlane, ['traffic-step', 'reviews', '--amount', '50']);
  await measure(50);
  await runEach(urls.controlPlane, ['traffic-step', 'reviews', '--amount', '100']);
  await measure(100);
  await show();

  step('7. Stop: every sidecar stops its app and deregisters it; ratings deregisters itself');
}

// startBookinfo cleans up after a failed start itself; runExample stops a running one.
await runExample(() => bookinfo, main);
