import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareRules, type Orderable, sortRules } from './order.js';

const r = (priority: number, id: string | undefined, index: number): Orderable => ({ priority, id, index });

describe('rule order', () => {
  it('is priority (high first), then id (code units, ids before none), then input order', () => {
    const sorted = sortRules([
      r(1, 'b', 0),
      r(1, undefined, 1),
      r(2, 'z', 2),
      r(1, 'a', 3),
      r(1, undefined, 4),
      r(1, 'B', 5),
    ]);
    expect(sorted.map((x) => x.index)).toEqual([2, 5, 3, 0, 1, 4]); // 'B' < 'a' < 'b' in UTF-16
  });

  it('does not depend on the order rules arrive in when ids are unique (property)', () => {
    const rule = fc.record({ priority: fc.integer({ min: -3, max: 3 }), id: fc.string({ maxLength: 3 }) });
    fc.assert(
      fc.property(
        fc.uniqueArray(rule, { selector: (x) => x.id, maxLength: 12 }),
        fc.func(fc.integer()),
        (rules, key) => {
          const a = sortRules(rules.map((x, i) => ({ ...x, index: i })));
          const shuffled = rules
            .map((x, i) => ({ x, k: key(i) }))
            .sort((p, q) => p.k - q.k)
            .map((p) => p.x);
          const b = sortRules(shuffled.map((x, i) => ({ ...x, index: i })));
          expect(b.map((x) => x.id)).toEqual(a.map((x) => x.id));
        },
      ),
    );
  });

  it('is a consistent comparator (antisymmetric)', () => {
    const o = fc.record({
      priority: fc.integer({ min: 0, max: 2 }),
      id: fc.option(fc.constantFrom('a', 'b'), { nil: undefined }),
      index: fc.nat(3),
    });
    fc.assert(fc.property(o, o, (a, b) => Math.sign(compareRules(a, b)) === -Math.sign(compareRules(b, a))));
  });
});
