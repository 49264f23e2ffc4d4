/**
 * Header propagation with MeshAgent.withIncoming on a real two-hop chain: client → "reviews"
 * (a node:http app using MeshAgent) → "ratings" v1 / v2 (real upstreams), routed by Amalgam8 rules.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { compile } from '@weft/core';
import { fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryAccessLog, MeshAgent, rulesRouter } from '../../packages/proxy/src/index.js';
import { http } from '../servers/http.js';
import { discoveryOf, sleep, type Upstream, upstreams } from './helpers.js';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('MeshAgent.withIncoming: headers follow the call chain', () => {
  let v1: Upstream[];
  let v2: Upstream[];
  let mesh: MeshAgent;
  let log: MemoryAccessLog;
  let app: Server;
  let appUrl: string;
  /** What the app sets on its outgoing call, per test. */
  let outgoing: Record<string, string> = {};

  beforeAll(async () => {
    v1 = await upstreams('v1-', 1, ['version=v1']);
    v2 = await upstreams('v2-', 1, ['version=v2']);
    const { discovery } = discoveryOf([['ratings', [...v1, ...v2]]]);
    log = new MemoryAccessLog();
    mesh = new MeshAgent({
      discovery,
      identity: { name: 'reviews' },
      accessLog: log,
      propagateHeaders: ['x-request-id', 'traceparent', 'Cookie'],
      router: rulesRouter(
        compile({
          rules: [
            {
              id: 'jason-to-v2',
              destination: 'ratings',
              priority: 2,
              match: { headers: { Cookie: '^(.*?;)?(user=jason)(;.*)?$' } },
              route: { backends: [{ tags: ['version=v2'] }] },
            },
            { id: 'default-v1', destination: 'ratings', priority: 1, route: { backends: [{ tags: ['version=v1'] }] } },
          ],
        }),
      ),
    });
    // The app: answers with what ratings answered, after an await or two (the context must
    // survive async work), calling ratings with fetch and no header of its own by default.
    app = createServer((req: IncomingMessage, res) =>
      mesh.withIncoming(req.headers, async () => {
        await sleep(Number(req.headers['x-delay'] ?? 0));
        const r = await undiciFetch('http://ratings/stars', { dispatcher: mesh, headers: outgoing });
        const body = await r.text();
        res.writeHead(r.status, { 'content-type': 'application/json' }).end(body);
      }),
    );
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', () => r()));
    appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await mesh.close();
    app.close();
    await Promise.all([...v1, ...v2].map((u) => u.close()));
  });

  it('carries the request id, trace context and the cookie a rule routes on', async () => {
    const r = await http(`${appUrl}/`, {
      headers: { 'x-request-id': 'rid-jason', traceparent: TRACEPARENT, cookie: 'user=jason' },
    });
    expect(JSON.parse(r.body).upstream).toBe('v2-0');
    const seen = (v2[0] as Upstream).lastHeaders;
    expect(seen['x-request-id']).toBe('rid-jason');
    expect(seen.traceparent).toBe(TRACEPARENT);
    expect(seen.cookie).toBe('user=jason');
    const rec = log.records.find((x) => x.request_id === 'rid-jason');
    expect(rec).toMatchObject({ rule_id: 'jason-to-v2', trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' });
    // Another user: the default route, and only the listed headers travel.
    const other = await http(`${appUrl}/`, {
      headers: { 'x-request-id': 'rid-other', cookie: 'user=ann', 'x-secret': 's' },
    });
    expect(JSON.parse(other.body).upstream).toBe('v1-0');
    expect((v1[0] as Upstream).lastHeaders).toMatchObject({ 'x-request-id': 'rid-other', cookie: 'user=ann' });
    expect((v1[0] as Upstream).lastHeaders['x-secret']).toBeUndefined();
  });

  it('keeps concurrent incoming requests apart', async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `rid-c${i}`);
    const seen: string[] = [];
    const before = (v1[0] as Upstream).handler;
    (v1[0] as Upstream).handler = (req, res) => {
      seen.push(String(req.headers['x-request-id']));
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"upstream":"v1-0"}');
    };
    try {
      // Delays make the app's outgoing calls interleave in another order than they came in.
      const answers = await Promise.all(
        ids.map((id, i) => http(`${appUrl}/`, { headers: { 'x-request-id': id, 'x-delay': String((12 - i) * 3) } })),
      );
      expect(answers.map((a) => a.status)).toEqual(ids.map(() => 200));
      expect([...seen].sort()).toEqual([...ids].sort());
      expect(seen).not.toEqual(ids); // they did interleave
    } finally {
      (v1[0] as Upstream).handler = before;
    }
  });

  it('a header the outgoing call sets wins over the inherited one', async () => {
    outgoing = { 'x-request-id': 'own-id', cookie: 'user=jason' };
    try {
      const r = await http(`${appUrl}/`, { headers: { 'x-request-id': 'incoming-id', cookie: 'user=ann' } });
      expect(JSON.parse(r.body).upstream).toBe('v2-0'); // routed on the call's own cookie
      expect((v2[0] as Upstream).lastHeaders['x-request-id']).toBe('own-id');
    } finally {
      outgoing = {};
    }
  });

  it('outside withIncoming nothing is inherited: a fresh request id is generated', async () => {
    const r = await undiciFetch('http://ratings/stars', { dispatcher: mesh });
    await r.text();
    const id = (v1[0] as Upstream).lastHeaders['x-request-id'];
    expect(typeof id).toBe('string');
    expect(id).not.toMatch(/^rid-/);
    expect((v1[0] as Upstream).lastHeaders.cookie).toBeUndefined();
  });

  it('reads fetch Headers objects too', async () => {
    const incoming = new Headers({ 'X-Request-Id': 'from-headers', Cookie: 'user=jason' });
    const status = await mesh.withIncoming(incoming, async () => {
      const r = await undiciFetch('http://ratings/stars', { dispatcher: mesh });
      await r.text();
      return r.status;
    });
    expect(status).toBe(200);
    expect((v2[0] as Upstream).lastHeaders['x-request-id']).toBe('from-headers');
  });
});
