// The Weft sidecar as the benchmark runs it: `@weft/proxy/sidecar` from the built packages, access
// log off (as in the nginx and HAProxy configs), with a routing rule set loaded (a cookie rule for
// user jason that the load does not match, in front of the default route to version=v1).
// run.ts bundles this file with esbuild (as a sidecar would be shipped) and also runs it unbundled.
// Plain JavaScript so Node loads no TypeScript stripper (it would add ~17 MB of RSS).
// `node bench/proxy/sidecar.mjs <upstream-port>`; prints `ready <port> <pid>`.
import { Discovery, ManualSource } from '@weft/core';
import * as proxy from '@weft/proxy/sidecar';
import { reviewsInstance } from './instance.mjs';

const upstreamPort = Number(process.argv[2]);
const source = new ManualSource('bench', [reviewsInstance(upstreamPort)]);
const discovery = new Discovery({ sources: [source] });

const rules = [
  {
    id: 'jason-reviews-v2',
    priority: 2,
    destination: 'reviews',
    match: { headers: { Cookie: '^(.*?;)?(user=jason)(;.*)?$' } },
    route: { backends: [{ tags: ['version=v2'] }] },
  },
  { id: 'reviews-default', priority: 1, destination: 'reviews', route: { backends: [{ tags: ['version=v1'] }] } },
];

/** The rule engine when this build of @weft/proxy has it; else the same two rules by hand. */
function router() {
  if (typeof proxy.rulesRouter === 'function') return proxy.rulesRouter(rules);
  const jason = /^(.*?;)?(user=jason)(;.*)?$/;
  const v1 = Object.freeze({ backendTags: Object.freeze(['version=v1']), ruleId: 'reviews-default' });
  const v2 = Object.freeze({ backendTags: Object.freeze(['version=v2']), ruleId: 'jason-reviews-v2' });
  return {
    has: (service) => service === 'reviews',
    services: () => ['reviews'],
    route(req) {
      const cookie = req.headers.cookie;
      return typeof cookie === 'string' && jason.test(cookie) ? v2 : v1;
    },
  };
}

// WEFT_BENCH_COPY_READS=1: upstream reads copied per read, as before they were lent (the stream
// memory figure's baseline).
const copyReads = process.env.WEFT_BENCH_COPY_READS === '1';
const sidecar = new proxy.Sidecar({
  discovery,
  router: router(),
  identity: { name: 'bench' },
  port: 0,
  admin: false,
  accessLog: false,
  ...(copyReads
    ? { upstreamPool: (origin, options) => new proxy.Http1Pool(origin, { ...options, lendReadBuffers: false }) }
    : {}),
});
const { port } = await sidecar.listen();
process.stdout.write(`ready ${port} ${process.pid}\n`);
process.on('SIGTERM', () => {
  void sidecar.close().then(() => process.exit(0));
});
