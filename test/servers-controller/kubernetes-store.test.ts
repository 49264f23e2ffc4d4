/**
 * The controller on the `kubernetes` store, against a real kube-apiserver: the rules of
 * Kubernetes namespace `x` are controller namespace `x`'s, served on /v1/rules and pushed to a
 * WeftRulesSource; kubectl-style edits and deletes propagate with growing revisions; an invalid
 * `Rule` never reaches /v1/rules (its status says why); writes through the Amalgam8 API answer 405
 * naming the store.
 */
import { WeftRulesSource } from '@weft/adapters/weft';
import type { RuleSet } from '@weft/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createControllerServer } from '../../packages/servers/src/index.js';
import { installRulesCrd, RuleObjects } from '../adapters/kubernetes-rules-helpers.js';
import { type KubeApiserver, startKubeApiserver, waitFor } from '../servers/index.js';

let kube: KubeApiserver;
let objects: RuleObjects;

beforeAll(async () => {
  kube = await startKubeApiserver();
  await installRulesCrd(kube);
  objects = new RuleObjects(kube.kubeconfig);
}, 240_000);

afterAll(async () => {
  await kube?.stop();
});

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** A controller on the kubernetes store; the bearer token names the namespace (auth trusted). */
async function controller() {
  const app = await createControllerServer({
    store: { type: 'kubernetes', kubeconfig: kube.kubeconfigPath },
    auth: [{ type: 'trusted' }],
    logger: false,
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  cleanup.push(() => app.close());
  const send = async (namespace: string, method: string, path: string, body?: unknown) => {
    const headers: Record<string, string> = { authorization: `Bearer ${namespace}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${address}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const rules = async (namespace: string) =>
    (await send(namespace, 'GET', '/v1/rules')).body as { rules: { id: string }[]; revision: number };
  return { app, address, send, rules };
}

describe('controller store kubernetes', () => {
  it('serves the Rule objects of the namespace, follows edits and deletes, and leaves invalid ones out', async () => {
    const ns = 'shop';
    await objects.namespace(ns);
    await objects.create(ns, 'reviews-default', { destination: 'reviews', route: { backends: [{ tags: ['v1'] }] } });
    await objects.create(ns, 'broken', {
      destination: 'reviews',
      route: { backends: [{ tags: ['v2'] }] },
      actions: [{ action: 'abort', return_code: 503 }],
    });
    const { rules } = await controller();

    const first = await rules(ns);
    expect(first.rules).toEqual([
      { id: 'reviews-default', destination: 'reviews', route: { backends: [{ tags: ['v1'] }] } },
    ]);
    expect(first.revision).toBeGreaterThan(0);
    const broken = await waitFor(async () => (await objects.get(ns, 'broken')).status?.conditions?.[0]);
    expect(broken).toMatchObject({ type: 'Accepted', status: 'False', reason: 'InvalidRule' });
    expect(broken.message).toBe('spec: give route or actions, not both');

    await objects.create(ns, 'ratings-delay', {
      destination: 'ratings',
      actions: [{ action: 'delay', duration: '50ms', probability: 1 }],
    });
    const added = await waitFor(async () => {
      const r = await rules(ns);
      return r.rules.length === 2 ? r : undefined;
    });
    // Creation order, by name within a second (creation timestamps' resolution); rules are
    // evaluated by priority and id, so this order is for display only.
    expect(added.rules.map((r) => r.id).sort()).toEqual(['ratings-delay', 'reviews-default']);
    expect(added.revision).toBeGreaterThan(first.revision);

    await objects.delete(ns, 'reviews-default');
    const afterDelete = await waitFor(async () => {
      const r = await rules(ns);
      return r.rules.length === 1 ? r : undefined;
    });
    expect(afterDelete.rules[0]?.id).toBe('ratings-delay');
    expect(afterDelete.revision).toBeGreaterThan(added.revision);

    // Another namespace is another tenant.
    expect((await rules('empty')).rules).toEqual([]);
  });

  it('answers 400 for a tenant that cannot be a Kubernetes namespace', async () => {
    const { send } = await controller();
    const res = await send('Not_A_Namespace', 'GET', '/v1/rules');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'WEFT_ERR_INVALID_ARGUMENT' });
    expect(JSON.stringify(res.body.issues)).toContain('is not a Kubernetes namespace name');
  });

  it('answers writes through the API with 405 naming the store', async () => {
    const { send } = await controller();
    const rule = { id: 'x', destination: 'reviews', route: { backends: [{ tags: ['v1'] }] } };
    for (const [method, path, body] of [
      ['POST', '/v1/rules', { rules: [rule] }],
      ['PUT', '/v1/rules', { rules: [rule] }],
      ['DELETE', '/v1/rules?id=x', undefined],
    ] as const) {
      const res = await send('default', method, path, body);
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.body).toMatchObject({
        code: 'WEFT_ERR_STORE_READ_ONLY',
        status: 405,
        store: 'kubernetes Rule objects',
      });
      expect(String(res.body.error)).toContain('kubectl');
    }
  });

  it('pushes Kubernetes edits through the controller to a WeftRulesSource', async () => {
    const ns = 'pushed';
    await objects.namespace(ns);
    await objects.create(ns, 'details', { destination: 'details', route: { backends: [{ tags: ['v1'] }] } });
    const { address } = await controller();
    const source = new WeftRulesSource({ url: address, token: ns });
    const sets: RuleSet[] = [];
    const following = source.follow({ update: (s) => sets.push(s) });
    cleanup.push(() => source.close());
    await following.ready(20_000);
    expect(sets.at(-1)?.rules.map((r) => r.id)).toEqual(['details']);
    const revision = following.revision as number;

    await objects.replaceSpec(ns, 'details', { destination: 'details', route: { backends: [{ tags: ['v2'] }] } });
    await waitFor(() => sets.at(-1)?.rules[0]?.route?.backends[0]?.tags?.[0] === 'v2', 20_000);
    expect(following.revision).toBeGreaterThan(revision);
  });
});
