import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Discovery, instanceId, ManualSource, type ServiceInstance } from '@weft/core';
import { afterEach } from 'vitest';
import type { RouteFailure, RoutePlan, RouteRequest, Router } from '../../packages/proxy/src/index.js';

export { Discovery, ManualSource };

export type UpstreamHandler = (req: IncomingMessage, res: ServerResponse, upstream: Upstream) => void;

/** A real node:http upstream on loopback that answers with its name, and records what it saw. */
export class Upstream {
  readonly server: Server;
  port = 0;
  hits = 0;
  readonly sockets = new Set<Socket>();
  /** Replace to change behaviour mid-test. */
  handler: UpstreamHandler | undefined;
  lastHeaders: IncomingMessage['headers'] = {};
  lastPath = '';

  constructor(
    readonly name: string,
    readonly tags: string[] = [],
    handler?: UpstreamHandler,
  ) {
    this.handler = handler;
    this.server = createServer((req, res) => {
      this.hits++;
      this.lastHeaders = req.headers;
      this.lastPath = req.url ?? '';
      if (this.handler !== undefined) {
        this.handler(req, res, this);
        return;
      }
      req.resume();
      req.on('end', () => {
        const body = JSON.stringify({ upstream: this.name, path: req.url, method: req.method });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
    });
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async listen(port = 0): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** The instance record Discovery serves for this upstream. */
  instance(service: string): ServiceInstance {
    return loopbackInstance(service, 'http', this.port, this.tags);
  }

  /** Crashes the upstream: stops listening and resets every open connection. */
  async kill(): Promise<void> {
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  /** Graceful stop. */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** An UP instance of `service` listening on 127.0.0.1:`port`, as Discovery serves it. */
export function loopbackInstance(
  service: string,
  type: 'http' | 'https',
  port: number,
  tags: string[] = [],
): ServiceInstance {
  const value = `127.0.0.1:${port}`;
  return {
    id: instanceId(service, type, value),
    namespace: 'default',
    service,
    endpoint: { type, value, host: '127.0.0.1', port },
    tags,
    metadata: {},
    status: 'UP',
    ttl: 30,
    registeredAt: 0,
    lastHeartbeat: 0,
  };
}

/** Starts `count` upstreams named `<prefix><i>`, each with the given tags. */
export async function upstreams(prefix: string, count: number, tags: string[] = []): Promise<Upstream[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => new Upstream(`${prefix}${i}`, tags).listen()));
}

/** A Discovery over one ManualSource holding these upstreams as instances of `service`. */
export function discoveryOf(entries: Array<[service: string, ups: Upstream[]]>): {
  discovery: Discovery;
  source: ManualSource;
  instances: () => ServiceInstance[];
} {
  const instances = () => entries.flatMap(([svc, ups]) => ups.map((u) => u.instance(svc)));
  const source = new ManualSource('test', instances());
  return { discovery: new Discovery({ sources: [source] }), source, instances };
}

/** Counts `key(result)` over results. */
export function tally<T>(items: T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) {
    const k = key(i);
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

/** Binomial bounds: the count of successes in `n` trials at `p` lies within `z` standard deviations. */
export function withinBinomial(count: number, n: number, p: number, z = 4.5): boolean {
  const mean = n * p;
  const sd = Math.sqrt(n * p * (1 - p));
  return Math.abs(count - mean) <= z * sd;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A hand-written router for one service (tests that do not need the rule engine). */
export function routerFor(service: string, route: (req: RouteRequest) => RoutePlan | RouteFailure): Router {
  return { has: (s) => s === service, route, services: () => [service] };
}

/**
 * The clean-ups a test file's tests push (servers, agents, sidecars they open), run last-first
 * after each test, so that a failing test still closes what it opened. Call once, at the top level.
 */
export function cleanupAfterEach(): Array<() => Promise<void>> {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (cleanup.length > 0) await cleanup.pop()?.();
  });
  return cleanup;
}
