import { isWeftError } from '@weft/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { Versioned } from '../watch/types.js';
import { RevisionMismatchError, RuleConflictError, UnknownRuleError } from './errors.js';
import type { RulesStoreOptions } from './store-base.js';
import type { NamespaceRules, RulesStore, StoredRule } from './types.js';

/** A route rule for tests. */
export function route(id: string, destination = 'reviews', extra: Partial<StoredRule> = {}): StoredRule {
  return { id, destination, route: { backends: [{ tags: ['version=v1'] }] }, ...extra } as StoredRule;
}

/** An action rule for tests. */
export function action(id: string, destination = 'ratings', extra: Partial<StoredRule> = {}): StoredRule {
  return { id, destination, actions: [{ action: 'delay', duration: 7 }], ...extra } as StoredRule;
}

/**
 * The behaviour every {@link RulesStore} shares, as a vitest suite: `stores.test.ts` runs it on
 * the memory and file stores, `test/servers-controller/etcd-store.test.ts` on the etcd store
 * against a real etcd. `create` makes a fresh, empty store each time; the suite closes it.
 */
export function describeRulesStore(name: string, create: (options: RulesStoreOptions) => Promise<RulesStore>): void {
  describe(`${name} rules store`, () => {
    const open: RulesStore[] = [];
    afterEach(async () => {
      await Promise.all(open.splice(0).map((s) => s.close()));
    });

    async function store(options: RulesStoreOptions = {}): Promise<RulesStore> {
      const s = await create(options);
      open.push(s);
      return s;
    }

    it('starts every namespace at revision 0 without rules', async () => {
      const s = await store();
      expect(await s.get('default')).toEqual({ namespace: 'default', revision: 0, rules: [] });
    });

    it('bumps the revision exactly once per add, update, replace and delete', async () => {
      const s = await store();
      expect((await s.add('ns', [route('a'), route('b'), action('c')])).revision).toBe(1);
      expect((await s.update('ns', [route('a', 'reviews', { priority: 5 }), route('b')])).revision).toBe(2);
      const replaced = await s.replace('ns', { destinations: ['reviews'], kind: 'route' }, [route('d'), route('e')]);
      expect(replaced).toEqual({ revision: 3, ids: ['d', 'e'], removed: ['a', 'b'] });
      const deleted = await s.delete('ns', { ids: ['c', 'd'] });
      expect(deleted).toEqual({ revision: 4, ids: [], removed: ['c', 'd'] });
      const now = await s.get('ns');
      expect(now.revision).toBe(4);
      expect(now.rules.map((r) => r.id)).toEqual(['e']);
    });

    it('an update bumps the revision (the bug Amalgam8 once had) and keeps the rule in place', async () => {
      const s = await store();
      await s.add('ns', [route('a'), route('b'), route('c')]);
      const before = (await s.get('ns')).revision;
      await s.update('ns', [route('b', 'details')]);
      const after = await s.get('ns');
      expect(after.revision).toBe(before + 1);
      expect(after.rules.map((r) => [r.id, r.destination])).toEqual([
        ['a', 'reviews'],
        ['b', 'details'],
        ['c', 'reviews'],
      ]);
    });

    it('a delete that matches nothing changes nothing, revision included', async () => {
      const s = await store();
      await s.add('ns', [route('a')]);
      expect(await s.delete('ns', { ids: ['nope'] })).toEqual({ revision: 1, ids: [], removed: [] });
      expect((await s.get('ns')).revision).toBe(1);
    });

    it('deletes everything with an empty filter, and filters like Amalgam8 (ids/destinations any, tags all)', async () => {
      const s = await store();
      await s.add('ns', [
        route('a', 'reviews', { tags: ['canary', 'team=x'] }),
        route('b', 'reviews', { tags: ['canary'] }),
        action('c', 'ratings', { tags: ['canary', 'team=x'] }),
        route('d', 'details'),
      ]);
      expect((await s.delete('ns', { tags: ['canary', 'team=x'] })).removed).toEqual(['a', 'c']);
      expect((await s.delete('ns', { destinations: ['reviews', 'details'], kind: 'route' })).removed).toEqual([
        'b',
        'd',
      ]);
      await s.add('ns', [route('e'), action('f')]);
      expect((await s.delete('ns', {})).removed).toEqual(['e', 'f']);
      expect((await s.get('ns')).rules).toEqual([]);
    });

    it('is atomic: a write with one bad rule stores none of them and keeps the revision', async () => {
      const s = await store();
      await s.add('ns', [route('a')]);
      await expect(s.add('ns', [route('b'), route('a')])).rejects.toBeInstanceOf(RuleConflictError);
      await expect(s.add('ns', [route('c'), { id: 'd', destination: 'x' } as StoredRule])).rejects.toSatisfy((e) =>
        isWeftError(e, 'WEFT_ERR_INVALID_ARGUMENT'),
      );
      await expect(s.update('ns', [route('a', 'x'), route('zz')])).rejects.toBeInstanceOf(UnknownRuleError);
      const now = await s.get('ns');
      expect(now.revision).toBe(1);
      expect(now.rules).toEqual([route('a')]);
    });

    it('rejects rules without an id, and an id twice in one write, naming the path', async () => {
      const s = await store();
      const noId = { destination: 'reviews', route: { backends: [{ tags: ['v1'] }] } } as unknown as StoredRule;
      await expect(s.add('ns', [noId])).rejects.toThrow(/rules\[0\]\.id: is required/);
      await expect(s.add('ns', [route('a'), route('a')])).rejects.toThrow(
        /rules\[1\]\.id: duplicate id "a" \(also rules\[0\]\)/,
      );
    });

    it('replace may reuse the ids it removes but not others', async () => {
      const s = await store();
      await s.add('ns', [route('a'), action('b', 'reviews')]);
      const r = await s.replace('ns', { destinations: ['reviews'], kind: 'route' }, [
        route('a', 'reviews', { priority: 3 }),
      ]);
      expect(r).toEqual({ revision: 2, ids: ['a'], removed: ['a'] });
      await expect(s.replace('ns', { destinations: ['reviews'], kind: 'route' }, [route('b')])).rejects.toBeInstanceOf(
        RuleConflictError,
      );
    });

    it('compare-and-set: a write with ifRevision applies only at that revision', async () => {
      const s = await store();
      await s.add('ns', [route('a')], { ifRevision: 0 });
      await expect(s.add('ns', [route('b')], { ifRevision: 0 })).rejects.toBeInstanceOf(RevisionMismatchError);
      await s.add('ns', [route('b')], { ifRevision: 1 });
      expect((await s.get('ns')).rules.map((r) => r.id)).toEqual(['a', 'b']);
    });

    it('keeps namespaces apart: revisions, rules and ids', async () => {
      const s = await store();
      await s.add('a', [route('x')]);
      await s.add('a', [route('y')]);
      await s.add('b', [route('x', 'other')]);
      expect((await s.get('a')).revision).toBe(2);
      expect((await s.get('b')).rules).toEqual([route('x', 'other')]);
      await s.delete('b', {});
      expect((await s.get('a')).rules.map((r) => r.id)).toEqual(['x', 'y']);
    });

    it('copies what it is given and hands out frozen snapshots', async () => {
      const s = await store();
      const rule = route('a');
      await s.add('ns', [rule]);
      (rule as { destination: string }).destination = 'changed';
      const got = await s.get('ns');
      expect(got.rules[0]?.destination).toBe('reviews');
      expect(Object.isFrozen(got.rules[0])).toBe(true);
      expect(() => (got.rules as StoredRule[]).push(route('b'))).toThrow();
    });

    it('watch delivers the current snapshot, then every change, revisions only growing', async () => {
      const s = await store();
      await s.add('ns', [route('a')]);
      const seen: Versioned<NamespaceRules>[] = [];
      const stop = s.watch('ns').subscribe((state) => seen.push(state));
      await s.add('ns', [route('b')]);
      await s.add('other', [route('z')]);
      await s.delete('ns', { ids: ['a'] });
      stop();
      await s.add('ns', [route('c')]);
      expect(seen.map((v) => [v.revision, v.value.rules.map((r) => r.id)])).toEqual([
        [1, ['a']],
        [2, ['a', 'b']],
        [3, ['b']],
      ]);
      expect(seen.every((v) => v.revision === v.value.revision && v.value.namespace === 'ns')).toBe(true);
    });

    it('a listener that writes re-entrantly never makes another listener go backwards', async () => {
      const s = await store();
      const first: number[] = [];
      const second: number[] = [];
      let wrote = false;
      s.watch('ns').subscribe((v) => {
        first.push(v.revision);
        if (v.revision === 1 && !wrote) {
          wrote = true;
          void s.add('ns', [route('again')]);
        }
      });
      s.watch('ns').subscribe((v) => second.push(v.revision));
      await s.add('ns', [route('a')]);
      // The re-entrant write lands later (a durable store saves it first): wait for it, up to 5 s.
      for (let waited = 0; waited < 5_000 && (first.at(-1) !== 2 || second.at(-1) !== 2); waited += 10)
        await new Promise((r) => setTimeout(r, 10));
      for (const seq of [first, second]) {
        expect(seq.at(-1)).toBe(2);
        expect([...seq].sort((a, b) => a - b)).toEqual(seq);
        expect(new Set(seq).size).toBe(seq.length);
      }
    });

    it('isolates a throwing listener from the others', async () => {
      const errors: unknown[] = [];
      const s = await store({ onListenerError: (e) => errors.push(e) });
      const got: number[] = [];
      s.watch('ns').subscribe(() => {
        throw new Error('boom');
      });
      s.watch('ns').subscribe((v) => got.push(v.revision));
      await s.add('ns', [route('a')]);
      expect(got).toEqual([0, 1]);
      expect(errors.map((e) => (e as Error).message)).toEqual(['boom', 'boom']);
    });

    it('close ends every watch, then refuses reads and writes', async () => {
      const s = await store();
      const ends: unknown[] = [];
      s.watch('ns').subscribe(
        () => {},
        (reason) => ends.push(reason),
      );
      await s.check();
      await s.close();
      expect(ends).toHaveLength(1);
      expect(isWeftError(ends[0], 'WEFT_ERR_CLOSED')).toBe(true);
      await expect(s.add('ns', [route('a')])).rejects.toSatisfy((e) => isWeftError(e, 'WEFT_ERR_CLOSED'));
      await expect(s.get('ns')).rejects.toSatisfy((e) => isWeftError(e, 'WEFT_ERR_CLOSED'));
      await expect(s.check()).rejects.toSatisfy((e) => isWeftError(e, 'WEFT_ERR_CLOSED'));
      await s.close();
    });

    it('concurrent writes each bump the revision once and all land', async () => {
      const s = await store();
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => s.add('ns', [route(`r${i}`)])));
      expect(results.map((r) => r.revision).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      const now = await s.get('ns');
      expect(now.revision).toBe(20);
      expect(now.rules).toHaveLength(20);
    });

    const policies = {
      defaultAction: 'deny',
      policies: [{ id: 'pp', destination: 'reviews', action: 'allow', from: [{ services: ['productpage'] }] }],
    };

    it('keeps authorization policies with the rules: one revision for both, kept across rule writes', async () => {
      const s = await store();
      const seen: NamespaceRules[] = [];
      s.watch('ns').subscribe((state) => seen.push(state.value));
      await s.add('ns', [route('a')]);
      expect(await s.authorize('ns', policies)).toEqual({ revision: 2, ids: [], removed: [] });
      await s.update('ns', [route('a', 'details')]);
      const now = await s.get('ns');
      expect(now.revision).toBe(3);
      expect(now.authorization).toEqual(policies);
      expect(Object.isFrozen(now.authorization?.policies[0])).toBe(true);
      await until(() => seen.at(-1)?.revision === 3);
      expect(seen.at(-1)?.authorization?.defaultAction).toBe('deny');
      expect((await s.authorize('ns', undefined)).revision).toBe(4);
      expect((await s.get('ns')).authorization).toBeUndefined();
    });

    it('refuses bad policies naming the field, and a stale If-Match, writing nothing', async () => {
      const s = await store();
      await s.authorize('ns', policies);
      const bad = { policies: [{ id: 'x', destination: 'reviews', action: 'permit' }] };
      const err = await s.authorize('ns', bad).catch((e: unknown) => e);
      expect(isWeftError(err, 'WEFT_ERR_INVALID_ARGUMENT')).toBe(true);
      expect((err as { issues: unknown }).issues).toEqual([
        { path: 'policies[0].action', message: 'must be "allow" or "deny"' },
      ]);
      await expect(s.authorize('ns', { policies: [] }, { ifRevision: 0 })).rejects.toBeInstanceOf(
        RevisionMismatchError,
      );
      const now = await s.get('ns');
      expect(now.revision).toBe(1);
      expect(now.authorization).toEqual(policies);
    });
  });
}

/** Waits for a watch delivery (durable stores deliver after their write is acknowledged). */
async function until(ok: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a watch delivery');
    await new Promise((r) => setTimeout(r, 10));
  }
}
