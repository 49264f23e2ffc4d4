/**
 * The routes against a store that behaves like a remote one (etcd, Kubernetes): every call
 * asynchronous, fresh objects on every read, watch deliveries late. Nothing in the server may
 * depend on the memory store's synchronous, shared snapshots.
 */
import { describe, expect, it } from 'vitest';
import { MemoryRulesStore } from '../rules-store/memory-store.js';
import type { NamespaceRules, RuleFilter, RulesStore, StoredRule, WriteOptions } from '../rules-store/types.js';
import type { Watchable } from '../watch/types.js';
import { createControllerServer } from './server.js';
import { defaultRoute, jasonRoute, json } from './test-support.js';

const later = <T>(value: () => T | Promise<T>): Promise<T> =>
  new Promise((resolve, reject) => setTimeout(() => Promise.resolve().then(value).then(resolve, reject), 2));

/** A store in another process, as far as the server can tell. */
class RemoteLikeStore implements RulesStore {
  readonly inner = new MemoryRulesStore();
  /** Rules `get` hands out instead of the stored ones, to play a store with bad data. */
  override: StoredRule[] | undefined;

  get(namespace: string): Promise<NamespaceRules> {
    return later(async () => {
      const ns = structuredClone(await this.inner.get(namespace));
      return this.override === undefined ? ns : { ...ns, rules: this.override };
    });
  }
  watch(namespace: string): Watchable<NamespaceRules> {
    const source = this.inner.watch(namespace);
    return {
      current: () => later(async () => structuredClone(await source.current())),
      subscribe: (listener, onEnd) => source.subscribe((s) => void later(() => listener(structuredClone(s))), onEnd),
    };
  }
  add(namespace: string, rules: readonly StoredRule[], options?: WriteOptions) {
    return later(() => this.inner.add(namespace, rules, options));
  }
  update(namespace: string, rules: readonly StoredRule[], options?: WriteOptions) {
    return later(() => this.inner.update(namespace, rules, options));
  }
  replace(namespace: string, filter: RuleFilter, rules: readonly StoredRule[], options?: WriteOptions) {
    return later(() => this.inner.replace(namespace, filter, rules, options));
  }
  delete(namespace: string, filter: RuleFilter, options?: WriteOptions) {
    return later(() => this.inner.delete(namespace, filter, options));
  }
  authorize(namespace: string, authorization: unknown, options?: WriteOptions) {
    return later(() => this.inner.authorize(namespace, authorization, options));
  }
  check() {
    return later(() => this.inner.check());
  }
  close() {
    return this.inner.close();
  }
}

describe('a store behind the RulesStore interface that is not in memory', () => {
  it('serves every route unchanged', async () => {
    const store = new RemoteLikeStore();
    const app = await createControllerServer({ rulesStore: store });
    expect((await app.inject({ method: 'POST', url: '/v1/rules', payload: { rules: [jasonRoute] } })).statusCode).toBe(
      201,
    );
    const poll = app.inject({ url: '/v1/rules/routes/reviews?index=1&wait=5s' });
    await new Promise((r) => setTimeout(r, 30));
    const put = await app.inject({
      method: 'PUT',
      url: '/v1/rules/routes/reviews',
      payload: { rules: [defaultRoute] },
    });
    expect(put.statusCode).toBe(201);
    const answered = await poll;
    expect(answered.headers['x-weft-index']).toBe('2');
    expect(json(answered)).toEqual({ rules: [defaultRoute], revision: 2 });
    expect(json(await app.inject({ url: '/v1/rules/explain?destination=reviews' }))).toMatchObject({ status: 'route' });
    expect(json(await app.inject({ url: '/health' }))).toEqual({ status: 'ok' });
    await app.close();
    await store.close();
  });

  it('explain reports stored rules that no longer compile as a server error naming the rule', async () => {
    const store = new RemoteLikeStore();
    const app = await createControllerServer({ rulesStore: store });
    store.override = [{ ...defaultRoute, match: { headers: { Cookie: '(' } } } as StoredRule];
    const res = await app.inject({ method: 'POST', url: '/v1/rules/explain', payload: { destination: 'reviews' } });
    expect(res.statusCode).toBe(500);
    expect(json(res)).toMatchObject({ code: 'WEFT_ERR_STORED_RULES_INVALID' });
    expect(json<{ error: string }>(res).error).toMatch(/rules\[0\]\.match\.headers\.Cookie/);
    await app.close();
    await store.close();
  });
});
