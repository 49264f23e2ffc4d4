import type { RulesHistoryEntry } from '../api/types.js';

/** A revision of the history with what it changed against the one before it. */
export interface RevisionChange {
  readonly entry: RulesHistoryEntry;
  readonly added: readonly string[];
  readonly removed: readonly string[];
  /** Ids in both, with a different rule. */
  readonly changed: readonly string[];
}

/**
 * The history newest first, each revision with the rule ids it added, removed and changed
 * against the next older entry (the oldest shown lists all of its rules as added: what came
 * before it is not in the window). Accepts the entries in any order.
 */
export function revisionChanges(entries: readonly RulesHistoryEntry[]): RevisionChange[] {
  const sorted = [...entries].sort((a, b) => b.revision - a.revision);
  return sorted.map((entry, i) => {
    const older = sorted[i + 1];
    const before = new Map((older?.rules ?? []).map((r) => [r.id, JSON.stringify(r)]));
    const after = new Map(entry.rules.map((r) => [r.id, JSON.stringify(r)]));
    return {
      entry,
      added: [...after.keys()].filter((id) => !before.has(id)),
      removed: [...before.keys()].filter((id) => !after.has(id)),
      changed: [...after.keys()].filter((id) => before.has(id) && before.get(id) !== after.get(id)),
    };
  });
}

/** The entries of `GET /v1/rules/history`: a bare list, or one under `history` / `entries` / `revisions`. */
export function historyEntries(answer: unknown): RulesHistoryEntry[] {
  if (Array.isArray(answer)) return answer as RulesHistoryEntry[];
  if (typeof answer === 'object' && answer !== null)
    for (const key of ['history', 'entries', 'revisions']) {
      const list = (answer as Record<string, unknown>)[key];
      if (Array.isArray(list)) return list as RulesHistoryEntry[];
    }
  return [];
}
