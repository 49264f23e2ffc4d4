/**
 * Issue 14: the control plane knows which proxies follow it and how far behind they are — a real
 * control plane in this process, the Weft sources following it, and `weft status` as a process.
 */
import { WeftRegistrySource, WeftRulesSource } from '@weft/adapters/weft';
import type { RuleSet } from '@weft/core';
import { type ControlPlaneServer, createControlPlaneServer } from '@weft/servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { weft } from './helpers.js';

interface Listed {
  name: string;
  watches: string;
  transport: string;
  revision: number;
  current_revision: number;
  behind: number;
  last_seen: string;
  address: string;
}

let cp: ControlPlaneServer;
let url: string;
const closers: (() => Promise<void> | void)[] = [];
/** Trusted mode: the bearer token is the namespace. */
const as = (ns: string) => ({ authorization: `Bearer ${ns}` });

beforeAll(async () => {
  cp = await createControlPlaneServer({ auth: [{ type: 'trusted' }] });
  await cp.listen({ host: '127.0.0.1', port: 0 });
  const addr = cp.server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  url = `http://127.0.0.1:${addr.port}`;
});

afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await cp?.close();
});

async function proxies(path: string, ns = 'team-a'): Promise<Listed[]> {
  const res = await fetch(`${url}${path}`, { headers: as(ns) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { proxies: Listed[] }).proxies;
}

async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, ms = 5_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function putRule(backend: string): Promise<number> {
  const res = await fetch(`${url}/v1/rules/routes/reviews`, {
    method: 'PUT',
    headers: { ...as('team-a'), 'content-type': 'application/json' },
    body: JSON.stringify({ rules: [{ route: { backends: [{ tags: [backend] }] } }] }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { revision: number }).revision;
}

describe('proxies seen by the control plane', () => {
  it('lists a WeftRulesSource that follows it over SSE, at the current revision, and as it catches up', async () => {
    const first = await putRule('version=v1');
    const source = new WeftRulesSource({ url, token: 'team-a', proxyName: 'sidecar-a' });
    closers.push(() => source.close());
    let applied: RuleSet | undefined;
    const following = source.follow({
      update: (rs: RuleSet) => {
        applied = rs;
      },
    });
    closers.push(() => following.unsubscribe());
    await following.ready();
    expect(applied).toBeDefined();
    const listed = await eventually(
      () => proxies('/v1/proxies'),
      (l) => l.some((p) => p.name === 'sidecar-a' && p.transport === 'sse' && p.revision === first),
    );
    expect(listed).toContainEqual(
      expect.objectContaining({
        name: 'sidecar-a',
        watches: '/v1/rules',
        transport: 'sse',
        revision: first,
        current_revision: first,
        behind: 0,
        address: '127.0.0.1',
      }),
    );
    const next = await putRule('version=v2');
    const caughtUp = await eventually(
      () => proxies('/v1/proxies'),
      (l) => l.some((p) => p.name === 'sidecar-a' && p.revision === next),
    );
    expect(caughtUp.find((p) => p.name === 'sidecar-a')).toMatchObject({
      revision: next,
      current_revision: next,
      behind: 0,
    });
  });

  it('lists a long-polling client as long-poll, and a registry follower on /api/v1/proxies', async () => {
    const source = new WeftRulesSource({ url, token: 'team-a', proxyName: 'poller-b', transport: 'long-poll' });
    closers.push(() => source.close());
    const following = source.follow({ update: () => {} });
    closers.push(() => following.unsubscribe());
    await following.ready();
    const listed = await eventually(
      () => proxies('/v1/proxies'),
      (l) => l.some((p) => p.name === 'poller-b' && p.transport === 'long-poll'),
    );
    expect(listed.find((p) => p.name === 'poller-b')).toMatchObject({ transport: 'long-poll', behind: 0 });

    const registry = new WeftRegistrySource({ url, token: 'team-a', proxyName: 'sidecar-a' });
    closers.push(() => registry.close());
    const sub = registry.subscribe({ next: () => {}, error: () => {} });
    closers.push(() => sub.unsubscribe());
    const reg = await eventually(
      () => proxies('/api/v1/proxies'),
      (l) => l.some((p) => p.name === 'sidecar-a' && p.transport === 'sse'),
    );
    expect(reg.find((p) => p.name === 'sidecar-a')).toMatchObject({ watches: '/api/v1/instances', behind: 0 });
  });

  it('keeps namespaces apart: another tenant sees none of them', async () => {
    expect(await proxies('/v1/proxies', 'team-b')).toEqual([]);
    expect(await proxies('/api/v1/proxies', 'team-b')).toEqual([]);
  });

  it('`weft status -o json` lists the proxies per server', async () => {
    const env = {
      WEFT_CONTROLLER_URL: url,
      WEFT_REGISTRY_URL: url,
      WEFT_CONTROLLER_TOKEN: 'team-a',
      WEFT_REGISTRY_TOKEN: 'team-a',
    };
    const run = await weft(['status', '-o', 'json'], { env });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const status = JSON.parse(run.stdout) as {
      controller: { revision: number; proxies: (Listed & { stale: boolean })[] };
      registry: { proxies: Listed[] };
    };
    const sidecar = status.controller.proxies.find((p) => p.name === 'sidecar-a');
    expect(sidecar).toMatchObject({ transport: 'sse', revision: status.controller.revision, behind: 0, stale: false });
    expect(status.controller.proxies.map((p) => p.name)).toContain('poller-b');
    expect(status.registry.proxies.map((p) => p.name)).toContain('sidecar-a');
    const table = await weft(['status'], { env });
    expect(table.stdout).toMatch(/controller\s+sidecar-a\s+\/v1\/rules\s+sse\s+\d+ \/ \d+\s+current/);
  });
});
