import { describe, expect, it } from 'vitest';
import type { StoredRule } from '../api/types.js';
import { historyEntries, revisionChanges } from './history.js';

const rule = (id: string, version = 'v1'): StoredRule => ({
  id,
  destination: 'reviews',
  route: { backends: [{ tags: [`version=${version}`] }] },
});

describe('revisionChanges', () => {
  it('says what each revision added, removed and changed, newest first', () => {
    const changes = revisionChanges([
      { revision: 1, at: 1000, rules: [rule('a')] },
      { revision: 3, at: 3000, rules: [rule('a', 'v2'), rule('c')] },
      { revision: 2, at: 2000, rules: [rule('a'), rule('b')] },
    ]);
    expect(changes.map((c) => [c.entry.revision, c.added, c.removed, c.changed])).toEqual([
      [3, ['c'], ['b'], ['a']],
      [2, ['b'], [], []],
      [1, ['a'], [], []],
    ]);
  });
});

describe('historyEntries', () => {
  it('reads a bare list or a wrapped one, and nothing else', () => {
    const entry = { revision: 1, at: 0, rules: [] };
    expect(historyEntries([entry])).toEqual([entry]);
    expect(historyEntries({ history: [entry] })).toEqual([entry]);
    expect(historyEntries({ revisions: [entry] })).toEqual([entry]);
    expect(historyEntries({ nope: 1 })).toEqual([]);
    expect(historyEntries(null)).toEqual([]);
  });
});
