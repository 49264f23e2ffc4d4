/**
 * A small mesh for the dashboard's browser test: real HTTP services registered in a real control
 * plane, and real MeshAgents calling them by the controller's rules, whose access-log records are
 * sent to the control plane's telemetry API as a sidecar's stream sends them.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WeftRegistrySource, WeftRulesSource } from '@weft/adapters/weft';
import { Discovery } from '@weft/core';
import { type AccessLogRecord, MeshAgent, rulesRouter } from '@weft/proxy';
import { fetch, request } from 'undici';

/** A JSON call to the control plane: status and parsed body. */
export async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  const res = await request(`${base}${path}`, {
    method: method as 'GET',
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.body.text();
  return { status: res.statusCode, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

/** An HTTP service instance that answers `{service, version}`. */
async function startInstance(service: string, version: string): Promise<Server> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ service, version }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

export interface Mesh {
  /** Instance ids by `service:version`. */
  readonly ids: ReadonlyMap<string, string>;
  /** `count` calls productpage → reviews, and as many reviews v2 → ratings; their records sent to the control plane. */
  traffic(count: number): Promise<{ versions: string[] }>;
  close(): Promise<void>;
}

/** Registers productpage v1, reviews v1 and v2 and ratings v1 in the control plane at `base`, with two callers. */
export async function startMesh(base: string): Promise<Mesh> {
  const specs = [
    ['productpage', 'v1'],
    ['reviews', 'v1'],
    ['reviews', 'v2'],
    ['ratings', 'v1'],
  ] as const;
  const servers: Server[] = [];
  const ids = new Map<string, string>();
  for (const [service, version] of specs) {
    const server = await startInstance(service, version);
    servers.push(server);
    const { port } = server.address() as AddressInfo;
    const answer = await call(base, 'POST', '/api/v1/instances', {
      service_name: service,
      endpoint: { type: 'http', value: `127.0.0.1:${port}` },
      tags: [`version=${version}`],
      ttl: 600,
    });
    if (answer.status !== 201)
      throw new Error(`registering ${service}: ${answer.status} ${JSON.stringify(answer.body)}`);
    ids.set(`${service}:${version}`, (answer.body as { id: string }).id);
  }

  const discovery = new Discovery({ sources: [new WeftRegistrySource({ url: base })] });
  const rules = new WeftRulesSource({ url: base });
  const router = rulesRouter([]);
  const following = rules.follow(router);
  await Promise.all([discovery.ready(), following.ready()]);
  const records: AccessLogRecord[] = [];
  const agent = (name: string, version: string): MeshAgent =>
    new MeshAgent({
      discovery,
      router,
      identity: { name, tags: [`version=${version}`] },
      accessLog: { write: (record) => records.push(record) },
    });
  const productpage = agent('productpage', 'v1');
  const reviewsV2 = agent('reviews', 'v2');

  return {
    ids,
    async traffic(count) {
      const versions: string[] = [];
      for (let i = 0; i < count; i++) {
        const res = await fetch('http://reviews/reviews/0', { dispatcher: productpage });
        versions.push(((await res.json()) as { version: string }).version);
        await (await fetch('http://ratings/ratings/0', { dispatcher: reviewsV2 })).text();
      }
      const batch = records.splice(0);
      const sent = await call(base, 'POST', '/v1/telemetry/access-log', { records: batch });
      if (sent.status !== 202)
        throw new Error(`sending access-log records: ${sent.status} ${JSON.stringify(sent.body)}`);
      return { versions };
    },
    async close() {
      await Promise.all([productpage.close(), reviewsV2.close()]);
      following.unsubscribe();
      await rules.close();
      discovery.close();
      for (const server of servers) server.closeAllConnections();
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    },
  };
}
