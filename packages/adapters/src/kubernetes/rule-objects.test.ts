import { describe, expect, it } from 'vitest';
import { byCreation, type RuleObject, ruleOfObject, statusFor } from './rule-objects.js';

function object(name: string, spec: unknown, extra: Partial<RuleObject['metadata']> = {}): RuleObject {
  return { metadata: { name, namespace: 'ns', resourceVersion: '7', generation: 3, ...extra }, spec };
}
const route = { destination: 'reviews', route: { backends: [{ tags: ['v1'] }] } };

describe('ruleOfObject', () => {
  it('takes the object name as the id', () => {
    expect(ruleOfObject(object('reviews-v1', route))).toEqual({ ok: true, rule: { id: 'reviews-v1', ...route } });
  });

  it('names each problem by its path in the object', () => {
    const verdict = ruleOfObject(
      object('bad', { destination: 'reviews', route: { backends: [{ tags: ['v1'], weight: 'half' }] }, priority: 1.5 }),
    );
    expect(verdict.ok).toBe(false);
    if (verdict.ok) return;
    expect(verdict.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^spec\.priority: /),
        expect.stringMatching(/^spec\.route\.backends\[0\]\.weight: /),
      ]),
    );
  });

  it('refuses a spec that is not an object, and an id other than the name', () => {
    expect(ruleOfObject(object('x', 'nope'))).toEqual({ ok: false, problems: ['spec: must be an object (the rule)'] });
    expect(ruleOfObject(object('x', { ...route, id: 'y' }))).toEqual({
      ok: false,
      problems: ['spec.id: must be absent or equal the object name "x"'],
    });
    expect(ruleOfObject(object('x', { ...route, id: 'x' })).ok).toBe(true);
  });
});

describe('statusFor', () => {
  const now = new Date('2026-01-02T03:04:05.678Z');

  it('accepts a valid rule, then has nothing to write while nothing changes', () => {
    const o = object('r', route);
    const status = statusFor(o, ruleOfObject(o), now) ?? {};
    expect(status).toEqual({
      observedGeneration: 3,
      ruleKind: 'route',
      conditions: [
        {
          type: 'Accepted',
          status: 'True',
          reason: 'Valid',
          message: 'the rule is valid',
          observedGeneration: 3,
          lastTransitionTime: '2026-01-02T03:04:05Z',
        },
      ],
    });
    expect(statusFor({ ...o, status }, ruleOfObject(o), new Date())).toBeUndefined();
    // A new generation, still valid: written again, the transition time kept.
    const next = object('r', route, { generation: 4 });
    const again = statusFor({ ...next, status }, ruleOfObject(next), new Date('2027-01-01T00:00:00Z'));
    expect(again?.conditions?.[0]).toMatchObject({ observedGeneration: 4, lastTransitionTime: '2026-01-02T03:04:05Z' });
  });

  it('refuses an invalid rule with reason InvalidRule, dropping the kind, keeping other conditions', () => {
    const o: RuleObject = {
      ...object('r', { destination: 'reviews' }),
      status: { ruleKind: 'route', conditions: [{ type: 'Other', status: 'True' }] },
    };
    const status = statusFor(o, ruleOfObject(o), now);
    expect(status?.ruleKind).toBeNull();
    expect(status?.conditions).toEqual([
      { type: 'Other', status: 'True' },
      expect.objectContaining({
        type: 'Accepted',
        status: 'False',
        reason: 'InvalidRule',
        message: 'spec: needs a route or actions',
      }),
    ]);
  });
});

describe('byCreation', () => {
  it('orders by creation time, then by name', () => {
    const at = (name: string, t: string) => object(name, route, { creationTimestamp: t });
    const sorted = [
      at('b', '2026-01-01T00:00:01Z'),
      at('c', '2026-01-01T00:00:00Z'),
      at('a', '2026-01-01T00:00:01Z'),
    ].sort(byCreation);
    expect(sorted.map((o) => o.metadata?.name)).toEqual(['c', 'a', 'b']);
  });
});
