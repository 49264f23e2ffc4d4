import { compile, InvalidArgumentError, parseRules, type Rule } from '@weft/core';
import type { KubeObject } from './client.js';

/** A rule read from a `Rule` object: its id is the object's name. */
export type IdentifiedRule = Rule & { readonly id: string };

/** A `Rule` object as the API server serves it (the fields Weft reads). */
export type RuleObject = KubeObject & {
  metadata?: KubeObject['metadata'] & { generation?: number; creationTimestamp?: string | Date; uid?: string };
  spec?: unknown;
  status?: RuleStatus;
};

/** A condition of a `Rule`'s status (the Kubernetes `metav1.Condition` shape). */
export interface RuleCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  observedGeneration?: number;
  lastTransitionTime?: string;
}

/** The status Weft writes on a `Rule`. */
export interface RuleStatus {
  observedGeneration?: number;
  /** `null` in a patch removes it (a rule that was accepted and no longer is). */
  ruleKind?: 'route' | 'actions' | null;
  conditions?: RuleCondition[];
}

/** What Weft made of one object: the rule, or why it refused it. */
export type RuleVerdict =
  | { readonly ok: true; readonly rule: IdentifiedRule }
  | { readonly ok: false; readonly problems: readonly string[] };

/**
 * Validates an object's `spec` with core's rule parser. The id is the object's name; a `spec.id`
 * (pruned by the API server, unless its schema keeps it) must agree. Problems read
 * `spec.<path>: <problem>`, as `kubectl explain` names the fields.
 */
export function ruleOfObject(o: RuleObject): RuleVerdict {
  const name = o.metadata?.name ?? '';
  const spec = o.spec;
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec))
    return { ok: false, problems: ['spec: must be an object (the rule)'] };
  const given = (spec as { id?: unknown }).id;
  if (given !== undefined && given !== name)
    return { ok: false, problems: [`spec.id: must be absent or equal the object name ${JSON.stringify(name)}`] };
  try {
    const [rule] = parseRules([{ ...spec, id: name }]).rules;
    // What only compiling finds (a regex the engine refuses) is the object's problem too.
    compile([rule]);
    return { ok: true, rule: rule as IdentifiedRule };
  } catch (err) {
    if (!(err instanceof InvalidArgumentError)) throw err;
    return {
      ok: false,
      problems: err.issues.map((i) => `${i.path.replace(/^rules\[0\]\.?/, 'spec.').replace(/\.$/, '')}: ${i.message}`),
    };
  }
}

/** The longest condition message written (the API server limits it to 32 KiB). */
const MAX_MESSAGE = 4096;

/** The condition type Weft sets. */
export const ACCEPTED = 'Accepted';

/**
 * The status `verdict` calls for, or `undefined` when the object already carries it (the same
 * generation, kind, condition status, reason and message) — so a rule read by many sources is
 * written once, not once per reader.
 */
export function statusFor(o: RuleObject, verdict: RuleVerdict, now: Date): RuleStatus | undefined {
  const generation = o.metadata?.generation;
  const condition: RuleCondition = verdict.ok
    ? { type: ACCEPTED, status: 'True', reason: 'Valid', message: 'the rule is valid' }
    : {
        type: ACCEPTED,
        status: 'False',
        reason: 'InvalidRule',
        message: verdict.problems.join('; ').slice(0, MAX_MESSAGE),
      };
  if (generation !== undefined) condition.observedGeneration = generation;
  const ruleKind = verdict.ok ? (verdict.rule.route === undefined ? 'actions' : 'route') : null;
  const current = o.status;
  const old = current?.conditions?.find((c) => c.type === ACCEPTED);
  if (
    old !== undefined &&
    current?.observedGeneration === generation &&
    (current?.ruleKind ?? null) === ruleKind &&
    old.status === condition.status &&
    old.reason === condition.reason &&
    old.message === condition.message
  )
    return undefined;
  condition.lastTransitionTime =
    old !== undefined && old.status === condition.status && old.lastTransitionTime !== undefined
      ? old.lastTransitionTime
      : now.toISOString().replace(/\.\d+Z$/, 'Z');
  const others = (current?.conditions ?? []).filter((c) => c.type !== ACCEPTED);
  return {
    ...(generation === undefined ? {} : { observedGeneration: generation }),
    ruleKind,
    conditions: [...others, condition],
  };
}

/**
 * Orders objects as a store keeps rules: the order they were first stored (creation time, then
 * name — creation timestamps have a one-second resolution).
 */
export function byCreation(a: RuleObject, b: RuleObject): number {
  const ta = timeOf(a.metadata?.creationTimestamp);
  const tb = timeOf(b.metadata?.creationTimestamp);
  if (ta !== tb) return ta - tb;
  const na = a.metadata?.name ?? '';
  const nb = b.metadata?.name ?? '';
  return na < nb ? -1 : na > nb ? 1 : 0;
}

function timeOf(t: string | Date | undefined): number {
  if (t === undefined) return 0;
  const ms = t instanceof Date ? t.getTime() : Date.parse(t);
  return Number.isNaN(ms) ? 0 : ms;
}
