import { hasAllTags } from '../model/tags.js';
import { draw, fastRandom, type Rng } from '../random/rng.js';
import type { AbortFault, Decision, DelayFault, FaultAction, TraceFault } from './decision.js';

/** The faults to inject into one attempt. */
export interface AttemptFaults {
  /** Wait this long before forwarding (or aborting), ms; 0 for none. */
  readonly delayMs: number;
  /** The delay action that applies, if any. */
  readonly delay: DelayFault | undefined;
  /** Abort instead of forwarding, if set. */
  readonly abort: AbortFault | undefined;
  /** Key/values for this attempt's access-log record. */
  readonly traces: readonly TraceFault[];
}

const NONE: readonly TraceFault[] = Object.freeze([]);

/** No faults: the result for the (usual) attempt nothing applies to. Shared, never allocated per call. */
export const NO_FAULTS: AttemptFaults = Object.freeze({ delayMs: 0, delay: undefined, abort: undefined, traces: NONE });

/**
 * Rolls the faults of one attempt. Call it for **every** attempt — first try, retries, hedges —
 * with the tags of the instance that attempt goes to: a fault is injected per attempt, so a route
 * with retries can recover from an injected abort, and an action tagged `version=v1` hits only
 * attempts that reach a v1 instance even when the route's backend is "any instance".
 *
 * Among the decision's actions, in rule order, that the instance's tags satisfy:
 * - the first **delay** whose probability roll succeeds applies (later delays are not rolled);
 * - the first **abort** whose roll succeeds applies; the delay, if any, happens before it;
 * - every **trace** whose roll succeeds applies (the default probability is 1).
 *
 * Each considered action draws one number from `rng` (none for probability 0 or 1), so the
 * fraction of attempts an action hits is its probability.
 */
export function faultsForAttempt(
  decision: Decision,
  instanceTags: readonly string[],
  rng: Rng = fastRandom,
): AttemptFaults {
  const actions = decision.actions;
  if (actions.length === 0) return NO_FAULTS;
  let delay: DelayFault | undefined;
  let abort: AbortFault | undefined;
  let traces: TraceFault[] | undefined;
  for (const a of actions) {
    if (a.kind === 'delay' ? delay !== undefined : a.kind === 'abort' && abort !== undefined) continue;
    if (!hasAllTags(instanceTags, a.tags) || !roll(a, rng)) continue;
    if (a.kind === 'delay') delay = a;
    else if (a.kind === 'abort') abort = a;
    else if (traces === undefined) traces = [a];
    else traces.push(a);
  }
  if (delay === undefined && abort === undefined && traces === undefined) return NO_FAULTS;
  return { delayMs: delay?.delayMs ?? 0, delay, abort, traces: traces ?? NONE };
}

/**
 * {@link faultsForAttempt} against the decision's backend tags — for callers that do not know
 * the instance (an instance of the backend carries at least those tags, so actions that need
 * more are not applied).
 */
export function rollFaults(decision: Decision, rng: Rng = fastRandom): AttemptFaults {
  return faultsForAttempt(decision, decision.backend?.tags ?? NONE_TAGS, rng);
}

const NONE_TAGS: readonly string[] = Object.freeze([]);

function roll(action: FaultAction, rng: Rng): boolean {
  const p = action.probability;
  if (p >= 1) return true;
  if (p <= 0) return false;
  return draw(rng) < p;
}
