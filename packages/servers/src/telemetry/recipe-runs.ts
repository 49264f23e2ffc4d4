import { parseOrThrow } from '@weft/core';
import * as z from 'zod/mini';
import type { Versioned, Watchable } from '../watch/types.js';

/** Runs kept per namespace, the newest. */
export const RECIPE_RUNS_KEPT = 50;
/** Largest report accepted, bytes (a report lists checks and counts, never records). */
export const RECIPE_RUN_BODY_LIMIT = 256 * 1024;

/**
 * A recipe run's report as `weft recipe-run` makes it (`RecipeReport`): the fields the dashboard
 * lists are checked, the rest kept as sent.
 */
export const RecipeRunSchema = z.looseObject({
  runId: z
    .string({ error: 'must be the run id' })
    .check(
      z.minLength(1, { error: 'must not be empty' }),
      z.maxLength(200, { error: 'must be at most 200 characters' }),
    ),
  passed: z.boolean({ error: 'must be true or false: whether every check passed' }),
  checks: z.array(
    z.looseObject({
      name: z.string({ error: 'must be the check name' }),
      passed: z.boolean({ error: 'must be true or false' }),
    }),
    { error: 'must be the list of check results' },
  ),
  startedAt: z.optional(z.string({ error: 'must be an ISO 8601 time' })),
  durationMs: z.optional(z.number({ error: 'must be a number of ms' })),
});

/** A stored run: the report, and when the control plane received it. */
export type RecipeRun = z.output<typeof RecipeRunSchema> & { readonly receivedAt: string };

/** @throws InvalidArgumentError naming each bad field of the report. */
export function parseRecipeRun(body: unknown): z.output<typeof RecipeRunSchema> {
  return parseOrThrow(RecipeRunSchema, body, 'recipe run report');
}

/** `GET /v1/recipes/runs`: the runs kept, newest first, and how many were received (the revision). */
export interface RecipeRunsView {
  readonly runs: readonly RecipeRun[];
  readonly index: number;
}

/**
 * One namespace's recent recipe runs, newest first, at most `capacity`. Watchable: the revision
 * counts the runs received.
 */
export class RecipeRuns implements Watchable<RecipeRunsView> {
  private runs: readonly RecipeRun[] = [];
  private received = 0;
  private state: Versioned<RecipeRunsView> = { revision: 0, value: { runs: [], index: 0 } };
  private readonly listeners = new Set<{
    listener: (s: Versioned<RecipeRunsView>) => void;
    onEnd: ((reason: unknown) => void) | undefined;
  }>();

  constructor(readonly capacity = RECIPE_RUNS_KEPT) {}

  /** Stores a run; returns its revision. */
  add(report: z.output<typeof RecipeRunSchema>): number {
    const run = Object.freeze({ ...report, receivedAt: new Date().toISOString() });
    this.runs = Object.freeze([run, ...this.runs].slice(0, this.capacity));
    this.received++;
    this.state = { revision: this.received, value: { runs: this.runs, index: this.received } };
    for (const { listener } of [...this.listeners]) listener(this.state);
    return this.received;
  }

  get total(): number {
    return this.received;
  }

  current(): Promise<Versioned<RecipeRunsView>> {
    return Promise.resolve(this.state);
  }

  subscribe(listener: (s: Versioned<RecipeRunsView>) => void, onEnd?: (reason: unknown) => void): () => void {
    const entry = { listener, onEnd };
    this.listeners.add(entry);
    listener(this.state);
    return () => {
      this.listeners.delete(entry);
    };
  }

  end(reason: unknown): void {
    const ending = [...this.listeners];
    this.listeners.clear();
    for (const { onEnd } of ending) onEnd?.(reason);
  }
}
