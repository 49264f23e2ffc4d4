import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryRulesStore } from '../rules-store/memory-store.js';
import { controllerRoutes } from './routes.js';
import { createControllerServer } from './server.js';
import { defaultRoute, json } from './test-support.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'weft-controller-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('createControllerServer', () => {
  it('with a file store: rules and revisions survive a restart; close releases the file', async () => {
    const path = join(dir, 'rules.json');
    const first = await createControllerServer({ store: { type: 'file', path } });
    await first.inject({ method: 'POST', url: '/v1/rules', payload: { rules: [defaultRoute] } });
    await first.inject({ method: 'PUT', url: '/v1/rules', payload: { rules: [{ ...defaultRoute, priority: 4 }] } });
    await first.close();
    const second = await createControllerServer({ store: { type: 'file', path } });
    expect(json(await second.inject({ url: '/v1/rules' }))).toEqual({
      rules: [{ ...defaultRoute, priority: 4 }],
      revision: 2,
    });
    expect(json(await second.inject({ method: 'DELETE', url: '/v1/rules' })).revision).toBe(3);
    await second.close();
  });

  it('refuses to start on a damaged store file, naming it', async () => {
    const path = join(dir, 'rules.json');
    writeFileSync(
      path,
      '{"format":"weft-rules-store","version":1,"namespaces":{"default":{"revision":1,"rules":[{}]}}}',
    );
    await expect(createControllerServer({ store: { type: 'file', path } })).rejects.toThrow(
      new RegExp(`rules store file ${path}.*namespaces\\.default\\.rules\\[0\\]\\.destination: is required`),
    );
    // The failed start released the file's lock.
    writeFileSync(path, '{"format":"weft-rules-store","version":1,"namespaces":{}}');
    await (await createControllerServer({ store: { type: 'file', path } })).close();
  });

  it('refuses bad store options with the field named', async () => {
    await expect(createControllerServer({ store: { type: 'file', path: '' } })).rejects.toThrow(
      /store\.path: is required/,
    );
    await expect(createControllerServer({ store: { type: 'redis' } as never })).rejects.toThrow(
      /store\.type: must be memory, file, etcd/,
    );
    await expect(
      createControllerServer({ store: { type: 'etcd', endpoints: ['http://etcd-0:2379', 'etcd-1'] } }),
    ).rejects.toThrow(
      /store\.endpoints\[1\]: must be an http:\/\/ or https:\/\/ URL of an etcd member \(got "etcd-1"\)/,
    );
  });

  it('closes the store it created, never one it was given', async () => {
    const created = await createControllerServer();
    const own = created.rulesStore;
    await created.close();
    await expect(own.check()).rejects.toThrow(/closed/);
    const given = new MemoryRulesStore();
    const app = await createControllerServer({ rulesStore: given });
    expect(app.rulesStore).toBe(given);
    await app.close();
    await given.check();
    await given.close();
  });

  it('is ready to extend: routes added after creation run behind the same authentication', async () => {
    const app = await createControllerServer({ auth: [{ type: 'trusted' }] });
    app.get('/whoami', async (request) => ({ namespace: request.namespace }));
    expect(json(await app.inject({ url: '/whoami', headers: { authorization: 'Bearer team-x' } }))).toEqual({
      namespace: 'team-x',
    });
    expect((await app.inject({ url: '/whoami' })).statusCode).toBe(401);
    await app.close();
  });
});

describe('controllerRoutes', () => {
  it('refuses to start without authenticate (no namespace could be trusted)', async () => {
    const app = Fastify();
    app.register(controllerRoutes, { store: new MemoryRulesStore() });
    await expect(app.ready()).rejects.toThrow(/needs authenticate/);
  });
});
