/**
 * bookinfo in Node only, in this process: productpage, details, reviews v1/v2/v3 and ratings,
 * each a `node:http` server on loopback that registers itself with a `RegistrationClient`; the
 * callers (productpage, reviews) reach the others with `fetch` through a `MeshAgent` of their own
 * identity, all following the control plane's registry and rules; a `Sidecar` as the gateway.
 * The same services, calls and timeouts as the polyglot bookinfo (src/bookinfo), with nothing to
 * install and no process to leave behind.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { type RegistrationClient, WeftRegistrySource, WeftRulesSource } from '@weft/adapters/weft';
import { Discovery } from '@weft/core';
import { type AccessLogSink, MeshAgent, rulesRouter, Sidecar } from '@weft/proxy';
import { type AccessLogSource, memoryAccessLogSource, RecentAccessLog } from '@weft/servers';
import { fetch } from 'undici';
import type { ProductView } from '../bookinfo/product.js';
import { startInstance, untilListed } from '../mesh/instance.js';

/** productpage's wait for details and for reviews. */
const PRODUCTPAGE_TIMEOUT_MS = 3000;
/** reviews' wait for ratings: v2 longer than productpage waits for it (the conflict), v3 shorter (the fix). */
const RATINGS_TIMEOUT_MS: Record<string, number> = { v2: 10_000, v3: 2500 };
const STAR_COLOR: Record<string, string> = { v2: 'black', v3: 'red' };
const REVIEWS = [
  { reviewer: 'Reviewer1', text: 'An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!' },
  {
    reviewer: 'Reviewer2',
    text: 'Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare.',
  },
];
const RATINGS: Record<string, number> = { Reviewer1: 5, Reviewer2: 4 };

/** A running all-Node bookinfo. */
export interface NodeBookinfo {
  /** The gateway: `<gateway>/<service>/<path>`. */
  readonly gateway: string;
  /** The product page's JSON through the gateway. */
  readonly productApi: string;
  /** Each instance: `reviews v2 127.0.0.1:41234`. */
  readonly instances: readonly { service: string; version: string; address: string }[];
  /**
   * Where a resilience recipe reads the proxies' access-log records: the URL of each service
   * that calls others (it serves its `MeshAgent`'s records at `/debug/access-log`, as a sidecar's
   * admin listener does), and the gateway's records in this process.
   */
  readonly accessLogs: readonly (string | AccessLogSource)[];
  /** Resolves once this process's proxies have the controller's rules of `revision` or later. */
  rulesAt(revision: number): Promise<void>;
  /** Deregisters every instance, closes servers, agents and the gateway. */
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/**
 * Starts the six instances, registers them, and resolves once the gateway and every caller see
 * all of them. `accessLog` receives the records of every call the mesh makes here.
 */
export async function startNodeBookinfo(controlPlane: string, accessLog: AccessLogSink): Promise<NodeBookinfo> {
  // One view of the registry and one of the rules, shared by every agent and the gateway.
  const registrySource = new WeftRegistrySource({ url: controlPlane });
  const discovery = new Discovery({ sources: [registrySource] });
  const rulesSource = new WeftRulesSource({ url: controlPlane });
  const router = rulesRouter([]);
  const following = rulesSource.follow(router);
  await Promise.all([discovery.ready(), following.ready()]);

  const agents: MeshAgent[] = [];
  /** Each agent's recent records (also passed on to `accessLog`), served by its service's server. */
  const recentOf = new Map<MeshAgent, RecentAccessLog>();
  const agentOf = (name: string, version: string): MeshAgent => {
    const recent = new RecentAccessLog().forwardTo(accessLog);
    const agent = new MeshAgent({
      discovery,
      router,
      identity: { name, tags: [`version=${version}`] },
      // What bookinfo's services forward by hand: the request id, the trace and the user's cookie.
      propagateHeaders: ['x-request-id', 'traceparent', 'cookie'],
      accessLog: recent,
    });
    agents.push(agent);
    recentOf.set(agent, recent);
    return agent;
  };

  /** GET through `agent` within `ms`: the JSON answer, or why there is none. */
  const call = async (agent: MeshAgent, url: string, ms: number): Promise<Record<string, unknown>> => {
    const service = new URL(url).hostname;
    try {
      const res = await fetch(url, { dispatcher: agent, signal: AbortSignal.timeout(ms) });
      if (!res.ok) return { error: `${service} answered HTTP ${res.status}` };
      return (await res.json()) as Record<string, unknown>;
    } catch (err) {
      const timedOut = err instanceof Error && err.name === 'TimeoutError';
      return {
        error: timedOut ? `no answer from ${service} within ${ms / 1000} s (timed out)` : `${service} failed: ${err}`,
      };
    }
  };

  const productpage =
    (agent: MeshAgent): Handler =>
    async (req, res) => {
      if (req.url !== '/api/v1/products/0') return json(res, 404, { error: 'not found' });
      const started = performance.now();
      const view = await agent.withIncoming(req.headers, async () => {
        const details = await call(agent, 'http://details/details/0', PRODUCTPAGE_TIMEOUT_MS);
        const reviews = await call(agent, 'http://reviews/reviews/0', PRODUCTPAGE_TIMEOUT_MS);
        if ('error' in reviews) reviews.message = 'Sorry, product reviews are currently unavailable for this book.';
        return { product: { id: 0, title: 'The Comedy of Errors' }, details, reviews };
      });
      json(res, 200, { ...view, elapsed_ms: Math.round(performance.now() - started) } as unknown as ProductView);
    };

  const details: Handler = (_req, res) =>
    json(res, 200, { id: '0', author: 'William Shakespeare', year: 1595, type: 'paperback', pages: 200 });

  const reviews =
    (version: string, agent: MeshAgent | undefined): Handler =>
    async (req, res) => {
      const ratings =
        agent === undefined
          ? undefined
          : await agent.withIncoming(req.headers, () =>
              call(agent, 'http://ratings/ratings/0', RATINGS_TIMEOUT_MS[version] ?? 10_000),
            );
      json(res, 200, {
        id: '0',
        version,
        reviews: REVIEWS.map((r) => {
          if (ratings === undefined) return r;
          const stars = (ratings.ratings as Record<string, number> | undefined)?.[r.reviewer];
          return {
            ...r,
            rating:
              stars === undefined
                ? { error: 'Ratings service is currently unavailable' }
                : { stars, color: STAR_COLOR[version] },
          };
        }),
      });
    };

  const ratings: Handler = (_req, res) => json(res, 200, { id: '0', ratings: RATINGS });

  const productpageAgent = agentOf('productpage', 'v1');
  const reviewsV2Agent = agentOf('reviews', 'v2');
  const reviewsV3Agent = agentOf('reviews', 'v3');
  const specs: { service: string; version: string; handler: Handler; agent?: MeshAgent }[] = [
    { service: 'productpage', version: 'v1', handler: productpage(productpageAgent), agent: productpageAgent },
    { service: 'details', version: 'v1', handler: details },
    { service: 'reviews', version: 'v1', handler: reviews('v1', undefined) },
    { service: 'reviews', version: 'v2', handler: reviews('v2', reviewsV2Agent), agent: reviewsV2Agent },
    { service: 'reviews', version: 'v3', handler: reviews('v3', reviewsV3Agent), agent: reviewsV3Agent },
    { service: 'ratings', version: 'v1', handler: ratings },
  ];
  const servers: Server[] = [];
  const registrations: RegistrationClient[] = [];
  const accessLogs: (string | AccessLogSource)[] = [];
  const instances = await Promise.all(
    specs.map(async ({ service, version, handler, agent }) => {
      // A service that calls others serves its calls' records, for a recipe to read (no sidecar here).
      const recent = agent === undefined ? undefined : recentOf.get(agent);
      const started = await startInstance(
        controlPlane,
        { service, version, handler, recent },
        { errorStatus: 500, rulesRevision: () => following.revision },
      );
      servers.push(started.server);
      registrations.push(started.registration);
      if (recent !== undefined) accessLogs.push(`http://127.0.0.1:${started.port}`);
      return { service, version, address: started.address };
    }),
  );
  // Discovery hears of the registrations over its watch: wait for all six, not for a guessed time.
  await untilListed(discovery, ['productpage', 'details', 'reviews', 'ratings'], 6);

  const gatewayLog = new RecentAccessLog().forwardTo(accessLog);
  accessLogs.push(memoryAccessLogSource('gateway', gatewayLog));
  const gateway = new Sidecar({
    discovery,
    router,
    identity: { name: 'gateway' },
    port: 0,
    admin: false,
    accessLog: gatewayLog,
  });
  const { port } = await gateway.listen();
  const base = `http://127.0.0.1:${port}`;

  return {
    gateway: base,
    productApi: `${base}/productpage/api/v1/products/0`,
    instances,
    accessLogs,
    async rulesAt(revision) {
      while ((following.revision ?? -1) < revision) await new Promise((r) => setTimeout(r, 10));
    },
    async close() {
      await Promise.all(registrations.map((r) => r.close()));
      await gateway.close();
      for (const server of servers) server.closeAllConnections();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      await Promise.all(agents.map((a) => a.close()));
      following.unsubscribe();
      discovery.close();
      await Promise.all([registrySource.close(), rulesSource.close()]);
    },
  };
}
