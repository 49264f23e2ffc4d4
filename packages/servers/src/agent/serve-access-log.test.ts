import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Discovery, MemoryRegistry } from '@weft/core';
import { MeshAgent } from '@weft/proxy';
import { fetch } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { httpAccessLogSource } from '../recipes/records.js';
import { RecentAccessLog } from './recent-access-log.js';
import { accessLogHandler, serveAccessLog } from './serve-access-log.js';

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** An app on MeshAgent: `GET /hello` calls the `users` service through the mesh; its ring is served. */
async function meshApp(): Promise<{ url: string; recent: RecentAccessLog }> {
  const users = createServer((_req, res) => res.end('users'));
  const usersUrl = new URL(await listen(users));
  const registry = new MemoryRegistry();
  await registry.register({
    service: 'users',
    endpoint: { type: 'http', host: '127.0.0.1', port: Number(usersUrl.port) },
    tags: ['version=v1'],
  });
  const discovery = new Discovery({ sources: [registry.asSource()] });
  await discovery.ready();
  const recent = new RecentAccessLog(16);
  const mesh = new MeshAgent({ discovery, identity: { name: 'api', tags: ['version=v1'] }, accessLog: recent });
  closers.push(async () => {
    await mesh.close();
    discovery.close();
  });
  const app = createServer((req, res) => {
    void mesh.withIncoming(req.headers, async () => {
      const answer = await fetch('http://users/', { dispatcher: mesh });
      res.end(`api → ${await answer.text()}`);
    });
  });
  serveAccessLog(app, recent, { service: { name: 'api', tags: ['version=v1'] }, rulesRevision: () => 7 });
  return { url: await listen(app), recent };
}

describe('serveAccessLog: a MeshAgent app serves its recent access-log records as a sidecar does', () => {
  it('serves the records of its calls at /debug/access-log, and the app everything else', async () => {
    const { url } = await meshApp();
    const hello = await fetch(`${url}/hello`, { headers: { 'x-request-id': 'run-1-0' } });
    expect(await hello.text()).toBe('api → users');
    await fetch(`${url}/hello`, { headers: { 'x-request-id': 'other-0' } }).then((r) => r.text());

    const res = await fetch(`${url}/debug/access-log?request_id_prefix=run-1-`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown> & { records: Record<string, unknown>[] };
    expect(body).toMatchObject({ service: { name: 'api', tags: ['version=v1'] }, rules_revision: 7, size: 2 });
    expect(body.records).toHaveLength(1);
    expect(body.records[0]).toMatchObject({ request_id: 'run-1-0', src: 'api:version=v1', status: 200 });
    expect(String(body.records[0]?.dst)).toMatch(/^users/);
  });

  it('is what the recipe runner reads: httpAccessLogSource collects from it', async () => {
    const { url } = await meshApp();
    await fetch(`${url}/hello`, { headers: { 'x-request-id': 'recipe-abc-1' } }).then((r) => r.text());
    const answer = await httpAccessLogSource(url).read({ requestIdPrefix: 'recipe-abc-' });
    expect(answer.rules_revision).toBe(7);
    expect(answer.records.map((r) => r.request_id)).toEqual(['recipe-abc-1']);
  });

  it('answers a malformed query 400 naming the parameter, and other methods 405', async () => {
    const { url } = await meshApp();
    const bad = await fetch(`${url}/debug/access-log?limit=many`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: "limit must be a whole number (got 'many')" });
    const post = await fetch(`${url}/debug/access-log`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('accessLogHandler answers only its path and leaves other requests to the app', async () => {
    const recent = new RecentAccessLog(4);
    const handle = accessLogHandler(recent, { path: '/admin/log' });
    const url = await listen(
      createServer((req, res) => {
        if (!handle(req, res)) res.end('app');
      }),
    );
    expect(await (await fetch(`${url}/debug/access-log`)).text()).toBe('app');
    expect(await (await fetch(`${url}/admin/log`)).json()).toMatchObject({ service: null, rules_revision: null });
  });
});
