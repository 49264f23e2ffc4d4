/**
 * WeftAuthorizationSource against the controller on loopback, feeding a real gateway's policies:
 * a pushed policy set reaches the target whole; one that does not validate is reported and the
 * policies in force stay; a controller without the API (404) is reported once and left alone.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WeftAuthorizationSource } from '@weft/adapters/weft';
import type { Authorizer } from '@weft/core';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FAST, RecordingLogger, tempDir, until } from '../control-plane/helpers.js';
import { type ServerHandle, startController } from '../control-plane/servers.js';

let controller: ServerHandle;
let removeDir: () => Promise<void>;

beforeAll(async () => {
  const tmp = await tempDir('weft-authz-source-');
  removeDir = tmp.remove;
  controller = await startController({ dir: tmp.dir });
});
afterAll(async () => {
  await controller?.stop();
  await removeDir?.();
});

/** A target recording every policy set it is given. */
class Target {
  readonly sets: (Authorizer | undefined)[] = [];
  setAuthorization(a: Authorizer | undefined): void {
    this.sets.push(a);
  }
  /** Whether the latest set lets a plaintext caller from `ip` call `svc`. */
  allows(ip: string): boolean | undefined {
    return this.sets.at(-1)?.decide({ destination: 'svc', peer: { ip } }).allowed;
  }
}

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function follow(url: string) {
  const logger = new RecordingLogger();
  const source = new WeftAuthorizationSource({ url, logger, ...FAST });
  const target = new Target();
  const updates: (number | undefined)[] = [];
  const sub = source.follow(target, { onUpdate: (r) => updates.push(r) });
  cleanup.push(async () => {
    sub.unsubscribe();
    await source.close();
  });
  return { logger, target, updates };
}

describe('WeftAuthorizationSource', () => {
  it('puts each pushed revision in force whole, and removing the policies opens again', async () => {
    const { target, updates } = follow(controller.url);
    await until(() => target.sets.length === 1, 'the first (empty) policy set');
    expect(target.allows('127.0.0.2')).toBe(true);
    const put = await request(`${controller.url}/v1/authorization`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        policies: [{ id: 'block', destination: '*', action: 'deny', from: [{ ipBlocks: ['127.0.0.2'] }] }],
      }),
    });
    const { revision } = (await put.body.json()) as { revision: number };
    await until(() => updates.at(-1) === revision, `revision ${revision}`);
    expect(target.allows('127.0.0.2')).toBe(false);
    expect(target.allows('127.0.0.3')).toBe(true);
    const del = await request(`${controller.url}/v1/authorization`, { method: 'DELETE' });
    const after = ((await del.body.json()) as { revision: number }).revision;
    await until(() => updates.at(-1) === after, `revision ${after}`);
    expect(target.allows('127.0.0.2')).toBe(true);
  });

  it('keeps the policies in force when a revision does not validate, and says so once', async () => {
    // A server standing in for a controller whose stored policies are damaged (the real one
    // validates every write, so it cannot serve these): revision 1 good, revision 2 not.
    let body = { defaultAction: 'deny', policies: [], revision: 1 } as Record<string, unknown>;
    const server = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.setHeader('x-weft-index', String(body.revision));
      res.end(JSON.stringify(body));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => server.close(() => r())));
    const { target, logger } = follow(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    await until(() => target.sets.length === 1, 'revision 1');
    expect(target.allows('127.0.0.1')).toBe(false);
    body = { policies: [{ id: 'x', destination: 'svc', action: 'maybe' }], revision: 2 };
    await until(() => logger.codes().includes('WEFT_WARN_WEFT_BAD_AUTHORIZATION'), 'the warning');
    expect(logger.messages('WEFT_WARN_WEFT_BAD_AUTHORIZATION')[0]).toContain('policies[0].action');
    expect(target.sets).toHaveLength(1);
    expect(target.allows('127.0.0.1')).toBe(false);
  });

  it('reports a controller without policies (404) once and stops asking', async () => {
    let hits = 0;
    const server = createServer((_req, res) => {
      hits++;
      res.statusCode = 404;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ error: 'not found' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => server.close(() => r())));
    const { target, logger } = follow(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    await until(() => logger.codes().includes('WEFT_WARN_WEFT_BAD_AUTHORIZATION'), 'the warning');
    const seen = hits;
    await new Promise((r) => setTimeout(r, 600));
    expect(hits).toBe(seen);
    expect(target.sets).toHaveLength(0);
    expect(logger.messages('WEFT_WARN_WEFT_BAD_AUTHORIZATION')).toHaveLength(1);
  });
});
