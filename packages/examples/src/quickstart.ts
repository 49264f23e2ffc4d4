/**
 * Weft quickstart: the embedded registry, TTL heartbeats, watches, discovery and the load
 * balancers, narrated step by step. Runs on a virtual clock, so "35 seconds later" is instant.
 *
 *   npm run demo
 */
import {
  createPicker,
  Discovery,
  isWeftError,
  type LbPolicy,
  MemoryRegistry,
  type RegistrySnapshot,
  type ServiceInstance,
  VirtualClock,
} from '@weft/core';

const clock = new VirtualClock(Date.UTC(2026, 10, 23, 12, 0, 0));
const registry = new MemoryRegistry({ clock, ttl: { defaultSeconds: 30, minSeconds: 10, maxSeconds: 600 } });
const say = (text: string) => console.log(text);
const step = (title: string) => console.log(`\n── ${title} ${'─'.repeat(Math.max(0, 70 - title.length))}`);
const at = () => `t+${((clock.now() - Date.UTC(2026, 10, 23, 12, 0, 0)) / 1000).toFixed(0)}s`;
const label = (i: ServiceInstance) => `${i.endpoint.value} [${i.tags.join(',')}] ${i.status}`;
/** Lets watch deliveries (asynchronous, coalesced) reach their listeners. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

async function main(): Promise<void> {
  step('1. Watch the "reviews" service');
  const watch = registry.watch({ service: 'reviews' }, (snap: RegistrySnapshot) => {
    const up = snap.instances.filter((i) => i.status === 'UP').length;
    say(`   watch ▸ revision ${snap.revision}: ${snap.instances.length} instance(s), ${up} UP  (${at()})`);
  });
  await settle();

  step('2. Register three instances (TTL 10 s) and one that is still starting');
  // Issued together, so the watch sees one coalesced delivery with the latest state.
  const [v1a, v1b, v2] = await Promise.all([
    registry.register({
      service: 'reviews',
      endpoint: { type: 'http', host: '10.0.0.1', port: 9080 },
      tags: ['version=v1'],
      ttl: 10,
    }),
    registry.register({
      service: 'reviews',
      endpoint: { type: 'http', value: '10.0.0.2:9080' },
      tags: ['version=v1'],
      ttl: 10,
    }),
    registry.register({
      service: 'reviews',
      endpoint: { type: 'http', value: '10.0.0.3:9080' },
      tags: ['version=v2'],
      ttl: 10,
      metadata: { zone: 'eu-west-1b' },
    }),
    registry.register({
      service: 'reviews',
      endpoint: { type: 'http', value: '10.0.0.4:9080' },
      tags: ['version=v3'],
      status: 'STARTING',
    }),
  ]);
  await settle();
  for (const i of [v1a, v1b, v2]) say(`   registered ${i.id} → ${label(i)} ttl=${i.ttl}s`);
  say('   (four registrations, one watch delivery: deliveries are coalesced to the latest state)');
  const again = await registry.register({
    service: 'reviews',
    endpoint: { type: 'http', value: '10.0.0.1:9080' },
    tags: ['version=v1'],
    ttl: 10,
  });
  say(
    `   registering 10.0.0.1:9080 again returns the same id (${again.id === v1a.id}): ids are sha256(service/type/value)`,
  );
  say('   and the watch stays quiet: nothing visible changed');
  await settle();

  step('3. Query by tag and status');
  say(`   services: ${JSON.stringify(await registry.services())}`);
  const v1s = await registry.instances({ service: 'reviews', tags: ['version=v1'] });
  say(`   UP with version=v1: ${v1s.map((i) => i.endpoint.value).join(', ')}`);
  const all = await registry.instances({ service: 'reviews', status: 'ALL' });
  say(`   every status: ${all.map(label).join(' | ')}`);

  step('4. Heartbeats: 10.0.0.2 stops renewing and expires after its 10 s TTL');
  for (let s = 0; s < 15; s += 3) {
    clock.advance(3_000);
    await registry.renew(v1a.id);
    await registry.renew(v2.id);
    await settle();
  }
  say(`   renewed 10.0.0.1 and 10.0.0.3 every 3 s; now ${at()}`);
  try {
    await registry.renew(v1b.id);
  } catch (err) {
    if (isWeftError(err, 'WEFT_ERR_UNKNOWN_INSTANCE'))
      say(`   renew 10.0.0.2 → ${err.code} (HTTP ${err.status}): ${err.message}`);
    else throw err;
  }

  step('5. Discovery and the load balancers');
  const discovery = new Discovery({ sources: [registry.asSource()], clock });
  await discovery.ready();
  const v2b = await registry.register({
    service: 'reviews',
    endpoint: { type: 'http', value: '10.0.0.5:9080' },
    tags: ['version=v2'],
  });
  await settle();
  const set = discovery.endpoints('reviews');
  say(`   reviews has ${set.instances.length} UP endpoints at discovery revision ${set.revision}`);
  const policies: LbPolicy[] = [
    'round_robin',
    'weighted_round_robin',
    'random',
    'least_request',
    'peak_ewma',
    'ring_hash',
    'maglev',
  ];
  for (const policy of policies) {
    const picker = createPicker(policy, set.instances);
    const counts = new Map<string, number>();
    for (let r = 0; r < 3_000; r++) {
      const key = `user-${r % 40}`; // 40 users; hash pickers keep each user on one endpoint
      const i = picker.pickIndex(key);
      const chosen = picker.endpoints[i];
      if (chosen === undefined) continue;
      counts.set(chosen.endpoint.value, (counts.get(chosen.endpoint.value) ?? 0) + 1);
      picker.onStart(i);
      picker.onEnd(i, chosen.endpoint.value === '10.0.0.3:9080' ? 40 : 5); // 10.0.0.3 is slow
    }
    const spread = [...counts.entries()]
      .sort()
      .map(([k, n]) => `${k.replace(':9080', '')}=${n}`)
      .join('  ');
    say(`   ${policy.padEnd(21)} ${spread}`);
  }
  say('   (peak_ewma learned that 10.0.0.3 answers in 40 ms and sends it less traffic)');
  const ring = createPicker('maglev', set.instances);
  const before = ring.pick('user-7')?.endpoint.value;
  say(`   maglev: user-7 → ${before}, and again → ${ring.pick('user-7')?.endpoint.value} (sticky)`);

  step('6. Take an instance out of service: it stays listed and never expires');
  await registry.setStatus(v2.id, 'OUT_OF_SERVICE');
  for (let s = 0; s < 60; s += 5) {
    clock.advance(5_000);
    await registry.renew(v1a.id);
    await registry.renew(v2b.id);
  }
  await settle();
  const after = await registry.instances({ service: 'reviews', status: 'ALL' });
  say(`   ${at()}: ${after.map(label).join(' | ')}`);
  say('   (10.0.0.4 was STARTING and never renewed, so its default 30 s TTL ran out)');
  say(
    `   discovery now balances over: ${
      discovery
        .endpoints('reviews')
        .instances.map((i) => i.endpoint.value)
        .join(', ') || '(none)'
    }`,
  );

  step('7. Bad input is rejected with every problem named');
  try {
    await registry.register({ service: 'x'.repeat(70), endpoint: { type: 'http', value: 'no-port' }, ttl: -5 });
  } catch (err) {
    if (isWeftError(err, 'WEFT_ERR_INVALID_ARGUMENT')) say(`   ${err.code}: ${err.message}`);
    else throw err;
  }

  watch.unsubscribe();
  discovery.close();
  await registry.close();
  say('\nDone. Next: README.md › "Use the pieces", and `npm test`.');
}

await main();
