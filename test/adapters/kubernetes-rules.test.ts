/**
 * Weft's rules as Kubernetes custom resources, against a real kube-apiserver (see
 * test/servers/kube.ts): the checked-in CRD is installed and served, the API server rejects gross
 * errors with its OpenAPI schema, and a KubernetesRulesSource follows `Rule` objects — valid ones
 * reach it, invalid ones get a status condition naming the field and never reach it, edits and
 * deletes propagate. kubectl is used where it is installed (the CI image may lack it: those
 * assertions are skipped with a message); everything else goes through the API the way kubectl
 * does.
 */

import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { ApiextensionsV1Api, KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import {
  type AdapterWarning,
  KubernetesRulesSource,
  type KubernetesRulesUpdate,
  RULE_RESOURCE,
  type RuleStatus,
} from '@weft/adapters/kubernetes';
import { RuleSchema } from '@weft/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildRulesCrd } from '../../scripts/kubernetes-crd.js';
import { type KubeApiserver, startKubeApiserver, TcpCutProxy, waitFor } from '../servers/index.js';
import { CRD_FILE, installRulesCrd, kubectlPath, RuleObjects } from './kubernetes-rules-helpers.js';

const run = promisify(execFile);

let kube: KubeApiserver;
let objects: RuleObjects;

/** A reader allowed to follow rules but not to write their status (RBAC). */
const READER_TOKEN = 'rules-reader-token-0123456789abcdef';

beforeAll(async () => {
  kube = await startKubeApiserver({ extraTokens: [{ token: READER_TOKEN, user: 'rules-reader' }] });
  await installRulesCrd(kube);
  objects = new RuleObjects(kube.kubeconfig);
}, 240_000);

afterAll(async () => {
  await kube?.stop();
});

/** Records a source's updates and failures. */
function follow(source: KubernetesRulesSource) {
  const updates: KubernetesRulesUpdate[] = [];
  const errors: Error[] = [];
  const sub = source.subscribe({ next: (u) => updates.push(u), error: (e) => errors.push(e) });
  return {
    updates,
    errors,
    last: () => updates.at(-1),
    ids: () => updates.at(-1)?.rules.map((r) => r.id),
    stop: () => sub.unsubscribe(),
  };
}

function source(namespace: string, warnings: AdapterWarning[] = []): KubernetesRulesSource {
  return new KubernetesRulesSource({
    auth: { kubeconfig: kube.kubeconfig },
    namespace,
    logger: { warn: (w) => warnings.push(w) },
  });
}

const accepted = (s: RuleStatus | undefined) => s?.conditions?.find((c) => c.type === 'Accepted');

describe('the rules.weft.dev CustomResourceDefinition', () => {
  it('is the generated manifest, established by the API server', async () => {
    const manifest = parse(await readFile(CRD_FILE, 'utf8'));
    expect(manifest).toEqual(buildRulesCrd(RuleSchema));
    const kc = new KubeConfig();
    kc.loadFromString(kube.kubeconfig);
    const crd = await kc.makeApiClient(ApiextensionsV1Api).readCustomResourceDefinition({ name: 'rules.weft.dev' });
    expect(crd.status?.conditions?.find((c) => c.type === 'Established')?.status).toBe('True');
    // The API server found the schema structural (else it would say NonStructuralSchema).
    expect(crd.status?.conditions?.some((c) => c.type === 'NonStructuralSchema')).toBe(false);
  });

  it('makes the API server reject gross errors (a weight above 1, a string for a route)', async () => {
    await objects.namespace('gross');
    const weight = await objects
      .create('gross', 'too-heavy', { destination: 'reviews', route: { backends: [{ tags: ['v1'], weight: 2 }] } })
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect((weight as { code?: number }).code).toBe(422);
    expect(String((weight as { body?: unknown }).body)).toContain('spec.route.backends[0].weight');
    const route = await objects.create('gross', 'stringly', { destination: 'reviews', route: 'v1' }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect((route as { code?: number }).code).toBe(422);
    expect(String((route as { body?: unknown }).body)).toContain('spec.route');
  });
});

describe('KubernetesRulesSource', () => {
  it('follows valid rules, marks them Accepted, and propagates edits and deletes', async () => {
    const ns = 'follow';
    await objects.namespace(ns);
    await objects.create(ns, 'reviews-v2', {
      destination: 'reviews',
      priority: 10,
      match: { headers: { Cookie: '.*user=jason.*' } },
      route: { backends: [{ tags: ['v2'] }] },
    });
    await objects.create(ns, 'reviews-default', { destination: 'reviews', route: { backends: [{ tags: ['v1'] }] } });
    const rules = source(ns);
    const f = follow(rules);
    try {
      await waitFor(() => f.ids()?.length === 2);
      // Creation order; objects created within the same second (the timestamps' resolution) by name.
      expect([...(f.ids() ?? [])].sort()).toEqual(['reviews-default', 'reviews-v2']);
      const update = f.last() as KubernetesRulesUpdate;
      expect(update.ruleSet.rules.map((r) => r.id).sort()).toEqual(['reviews-default', 'reviews-v2']);
      expect(update.revision).toBeGreaterThan(0);
      const status = await waitFor(async () => {
        const s = (await objects.get(ns, 'reviews-v2')).status;
        return accepted(s)?.status === 'True' ? s : undefined;
      });
      expect(status).toMatchObject({ observedGeneration: 1, ruleKind: 'route' });
      expect(accepted(status)).toMatchObject({ reason: 'Valid', observedGeneration: 1 });

      // An edit of the spec propagates, with a greater revision.
      const before = update.revision as number;
      await objects.replaceSpec(ns, 'reviews-default', {
        destination: 'reviews',
        route: { backends: [{ tags: ['v3'] }] },
      });
      await waitFor(
        () => f.last()?.rules.find((r) => r.id === 'reviews-default')?.route?.backends[0]?.tags?.[0] === 'v3',
      );
      expect(f.last()?.revision).toBeGreaterThan(before);
      await waitFor(async () => (await objects.get(ns, 'reviews-default')).status?.observedGeneration === 2);

      // A delete propagates.
      await objects.delete(ns, 'reviews-v2');
      await waitFor(() => f.ids()?.join() === 'reviews-default');
      expect(f.errors).toEqual([]);
    } finally {
      f.stop();
      await rules.close();
    }
  });

  it('keeps invalid rules from the follower and says why in their status', async () => {
    const ns = 'invalid';
    await objects.namespace(ns);
    await objects.create(ns, 'good', { destination: 'ratings', route: { backends: [{ tags: ['v1'] }] } });
    // Passes the API server's schema, fails Weft's parser: a regex that does not compile.
    await objects.create(ns, 'bad-regex', {
      destination: 'ratings',
      match: { headers: { Cookie: '(unclosed' } },
      route: { backends: [{ tags: ['v2'] }] },
    });
    const warnings: AdapterWarning[] = [];
    const rules = source(ns, warnings);
    const f = follow(rules);
    try {
      await waitFor(() => f.ids() !== undefined);
      expect(f.ids()).toEqual(['good']);
      expect(f.last()?.rejected.get('bad-regex')?.[0]).toMatch(/^spec\.match\.headers\.Cookie/);
      const bad = await waitFor(async () => accepted((await objects.get(ns, 'bad-regex')).status));
      expect(bad).toMatchObject({ status: 'False', reason: 'InvalidRule', observedGeneration: 1 });
      expect(bad.message).toMatch(/^spec\.match\.headers\.Cookie(\.regex)?: /);
      expect((await objects.get(ns, 'bad-regex')).status?.ruleKind).toBeUndefined();
      expect(warnings.map((w) => w.code)).toContain('WEFT_WARN_K8S_INVALID_RULE');

      // A good rule edited into a bad one: its last good version stays in force, its status says why.
      const revision = f.last()?.revision;
      const updates = f.updates.length;
      await objects.replaceSpec(ns, 'good', {
        destination: 'ratings',
        route: {
          backends: [
            { tags: ['v1'], weight: 0.5 },
            { tags: ['v2'], weight: 0.5 },
          ],
          uri: { prefix_rewrite: '/v2' },
        },
      });
      const condition = await waitFor(async () => {
        const c = accepted((await objects.get(ns, 'good')).status);
        return c?.status === 'False' ? c : undefined;
      });
      expect(condition.message).toMatch(/^spec\.route\.uri\.prefix_rewrite: needs a prefix to replace/);
      expect(condition.observedGeneration).toBe(2);
      expect(f.updates.length).toBe(updates);
      expect(f.last()?.revision).toBe(revision);
      expect(f.last()?.rules[0]?.route?.backends).toEqual([{ tags: ['v1'] }]);

      // Fixed: applied, and Accepted again.
      await objects.replaceSpec(ns, 'good', {
        destination: 'ratings',
        route: {
          backends: [
            { tags: ['v1'], weight: 0.5 },
            { tags: ['v2'], weight: 0.5 },
          ],
        },
      });
      await waitFor(() => f.last()?.rules[0]?.route?.backends.length === 2);
      await waitFor(async () => accepted((await objects.get(ns, 'good')).status)?.status === 'True');
      expect(f.errors).toEqual([]);
    } finally {
      f.stop();
      await rules.close();
    }
  });

  it('feeds a rules router through follow()', async () => {
    const ns = 'router';
    await objects.namespace(ns);
    await objects.create(ns, 'delay', {
      destination: 'details',
      actions: [{ action: 'delay', probability: 1, duration: 0.1, tags: ['v1'] }],
    });
    const rules = source(ns);
    const seen: string[][] = [];
    const following = rules.follow({ update: (set) => seen.push(set.rules.map((r) => r.id ?? '')) });
    try {
      await following.ready(20_000);
      expect(seen.at(-1)).toEqual(['delay']);
      expect(following.revision).toBeGreaterThan(0);
      expect(following.stale).toBe(false);
      await waitFor(async () => (await objects.get(ns, 'delay')).status?.ruleKind === 'actions');
    } finally {
      following.unsubscribe();
      await rules.close();
    }
  });
});

describe('KubernetesRulesSource without RBAC permission on rules/status', () => {
  it('follows the rules, and says once that it cannot write statuses', async () => {
    const ns = 'rbac';
    await objects.namespace(ns);
    const kc = new KubeConfig();
    kc.loadFromString(kube.kubeconfig);
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: ns,
      body: {
        metadata: { name: 'rules-reader' },
        rules: [{ apiGroups: ['weft.dev'], resources: ['rules'], verbs: ['get', 'list', 'watch'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: 'rules-reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'rules-reader' },
        subjects: [{ kind: 'User', name: 'rules-reader', apiGroup: 'rbac.authorization.k8s.io' }],
      },
    });
    await objects.create(ns, 'one', { destination: 'a', route: { backends: [{ tags: ['v1'] }] } });
    await objects.create(ns, 'two', { destination: 'b', route: { backends: [{ tags: ['v1'] }] } });
    const warnings: AdapterWarning[] = [];
    const reader = new KubernetesRulesSource({
      auth: { kubeconfig: kube.kubeconfig.replace(kube.token, READER_TOKEN) },
      namespace: ns,
      logger: { warn: (w) => warnings.push(w) },
    });
    const f = follow(reader);
    try {
      await waitFor(() => f.ids()?.length === 2);
      await waitFor(() => warnings.some((w) => w.code === 'WEFT_WARN_K8S_RULE_STATUS'));
      await objects.create(ns, 'three', { destination: 'c', route: { backends: [{ tags: ['v1'] }] } });
      await waitFor(() => f.ids()?.length === 3);
      const refused = warnings.filter((w) => w.code === 'WEFT_WARN_K8S_RULE_STATUS');
      // Both first writes may have been in flight together; none is tried after the refusal.
      expect(refused.length).toBeLessThanOrEqual(2);
      expect(refused[0]?.message).toMatch(/forbidden|403/i);
      expect(refused[0]?.message).toContain('writeStatus: false');
      expect((await objects.get(ns, 'three')).status).toBeUndefined();
      expect(f.errors).toEqual([]);
    } finally {
      f.stop();
      await reader.close();
    }
  });
});

describe('KubernetesRulesSource: a cut connection and 410 Gone (watch cache off, etcd compacted)', () => {
  let bare: KubeApiserver;
  let bareObjects: RuleObjects;
  beforeAll(async () => {
    // Without the watch cache, watches are served by etcd itself, so after a compaction an old
    // resourceVersion answers 410 Gone.
    bare = await startKubeApiserver({ extraArgs: ['--watch-cache=false', '--etcd-compaction-interval=0'] });
    await installRulesCrd(bare);
    bareObjects = new RuleObjects(bare.kubeconfig);
  }, 240_000);
  afterAll(async () => {
    await bare?.stop();
  });

  it('keeps the rules in force while cut off, then relists and delivers what it missed', async () => {
    const proxy = await TcpCutProxy.start({ targetPort: bare.port });
    const warnings: AdapterWarning[] = [];
    const rules = new KubernetesRulesSource({
      auth: { kubeconfig: bare.kubeconfig.replace(bare.url, proxy.url('https')) },
      namespace: 'default',
      logger: { warn: (w) => warnings.push(w) },
    });
    const updates: KubernetesRulesUpdate[] = [];
    const errors: Error[] = [];
    const sub = rules.subscribe({ next: (u) => updates.push(u), error: (e) => errors.push(e) });
    try {
      await bareObjects.create('default', 'old', { destination: 'a', route: { backends: [{ tags: ['v1'] }] } });
      await waitFor(
        () =>
          updates
            .at(-1)
            ?.rules.map((r) => r.id)
            .join() === 'old',
      );
      proxy.refuse(true);
      proxy.cut();
      await waitFor(() => errors.length > 0);
      const during = updates.length;
      await bareObjects.create('default', 'new', { destination: 'b', route: { backends: [{ tags: ['v2'] }] } });
      await bareObjects.delete('default', 'old');
      expect(await bare.etcd.compact()).toBeGreaterThan(0);
      expect(updates.length).toBe(during);
      proxy.refuse(false);
      await waitFor(
        () =>
          updates
            .at(-1)
            ?.rules.map((r) => r.id)
            .join() === 'new',
        15_000,
      );
      expect(warnings.find((w) => w.code === 'WEFT_WARN_WATCH_RELIST')?.message).toMatch(/410/);
      // And it watches on from the new list.
      await bareObjects.replaceSpec('default', 'new', { destination: 'b', route: { backends: [{ tags: ['v3'] }] } });
      await waitFor(() => updates.at(-1)?.rules[0]?.route?.backends[0]?.tags?.[0] === 'v3');
    } finally {
      sub.unsubscribe();
      await rules.close();
      await proxy.close();
    }
  }, 60_000);
});

describe('with kubectl', () => {
  const kubectl = kubectlPath();
  const title = 'applies rules from YAML, lists them with their columns, and the source follows';
  it.skipIf(kubectl === undefined)(
    kubectl === undefined ? `${title} (skipped: kubectl is not installed; apt-get install kubectl)` : title,
    async () => {
      const ns = 'kubectl';
      await objects.namespace(ns);
      const rules = source(ns);
      const f = follow(rules);
      const args = ['--kubeconfig', kube.kubeconfigPath, '--namespace', ns];
      try {
        const manifest = [
          `apiVersion: ${RULE_RESOURCE.apiVersion}`,
          'kind: Rule',
          'metadata: {name: productpage-canary}',
          'spec:',
          '  destination: productpage',
          '  priority: 5',
          '  route:',
          '    backends:',
          '      - {tags: [v2], weight: 0.25}',
          '      - {tags: [v1]}',
          '',
        ].join('\n');
        const applied = await kubectlWithInput(kubectl as string, [...args, 'apply', '-f', '-'], manifest);
        expect(applied).toContain('rule.weft.dev/productpage-canary created');
        await waitFor(() => f.ids()?.includes('productpage-canary'));
        const table = await waitFor(async () => {
          const { stdout } = await run(kubectl as string, [...args, 'get', 'rules']);
          return /True/.test(stdout) ? stdout : undefined;
        });
        expect(table).toMatch(/NAME\s+DESTINATION\s+PRIORITY\s+KIND\s+ACCEPTED\s+AGE/);
        expect(table).toMatch(/productpage-canary\s+productpage\s+5\s+route\s+True/);
        // kubectl's strict field validation refuses an unknown field rather than pruning it.
        const typo = await kubectlWithInput(
          kubectl as string,
          [...args, 'apply', '-f', '-'],
          manifest.replace('priority: 5', 'priorty: 5'),
        ).then(
          () => '',
          (err: { stderr?: string }) => err.stderr ?? '',
        );
        expect(typo).toMatch(/unknown field "spec.priorty"/);
        await run(kubectl as string, [...args, 'delete', 'rule', 'productpage-canary']);
        await waitFor(() => f.ids()?.length === 0);
      } finally {
        f.stop();
        await rules.close();
      }
    },
  );
});

function kubectlWithInput(kubectl: string, args: string[], input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(kubectl, args, { timeout: 30_000 }, (err, stdout, stderr) =>
      err ? reject(Object.assign(err, { stderr })) : resolve(stdout),
    );
    child.stdin?.end(input);
  });
}
