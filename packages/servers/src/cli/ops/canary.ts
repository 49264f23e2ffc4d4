import type { OpContext } from './command.js';
import { ConflictError, NotFoundError, UsageError } from './errors.js';
import { inEvaluationOrder } from './routes.js';
import { tagsToVersion } from './versions.js';
import { rulesOf, type WireBackend, type WireRule } from './wire.js';

/**
 * The rule a traffic transfer works on, as a8ctl chose it: the service's last route rule in
 * evaluation order, which must be a catch-all (no conditions) — the default that `route-set`
 * writes. Rules with conditions above it (jason to v2) stay as they are.
 */
export interface SplitRule {
  readonly rule: WireRule;
  /** The controller's revision when it was read: the write applies only if nothing changed since. */
  readonly revision: number | undefined;
  readonly backends: WireBackend[];
}

export async function readSplitRule(op: OpContext, service: string): Promise<SplitRule> {
  const answer = await op.controller.get(`/v1/rules/routes/${encodeURIComponent(service)}`);
  const rules = inEvaluationOrder(rulesOf(answer.body));
  const rule = rules[rules.length - 1];
  if (rule === undefined)
    throw new NotFoundError(
      `${service} has no routing rules: give it a default version first (weft route-set ${service} --default <version>)`,
    );
  if (rule.match !== undefined || rule.route === undefined)
    throw new ConflictError(
      `the lowest-priority route rule of ${service} (${rule.id ?? 'no id'}) has conditions, so it is not a default to shift: weft route-set ${service} --default <version> writes one`,
    );
  return { rule, revision: answer.revision, backends: rule.route.backends };
}

/** A transfer in progress: two backends, the canary weighted, the default not. */
export function transferInProgress(service: string, split: SplitRule): { canary: WireBackend; base: WireBackend } {
  const [a, b] = split.backends;
  if (
    split.backends.length !== 2 ||
    a === undefined ||
    b === undefined ||
    (a.weight === undefined) === (b.weight === undefined)
  )
    throw new ConflictError(
      `no traffic transfer in progress for ${service} (its default rule routes to ${split.backends.map((x) => tagsToVersion(x.tags)).join(', ')}): start one with weft traffic-start ${service} <version>`,
    );
  return a.weight !== undefined ? { canary: a, base: b } : { canary: b, base: a };
}

/** Writes the changed rule back by id, if the rules are still at the revision it was read at. */
export async function writeSplitRule(op: OpContext, split: SplitRule, backends: WireBackend[]): Promise<void> {
  const rule: WireRule = { ...split.rule, route: { ...split.rule.route, backends } };
  await op.controller.request('PUT', '/v1/rules', { body: { rules: [rule] }, ifMatch: split.revision });
}

/** `--amount`: a whole percentage, as a8ctl took it. */
export function parseAmount(text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > 100)
    throw new UsageError(`--amount must be a whole percentage between ${min} and 100 (got '${text}')`);
  return n;
}

/** A share as a weight: 10 → 0.1 (rounded so that steps do not accumulate 0.30000000000000004). */
export const toWeight = (percent: number): number => Math.round(percent * 10) / 1000;
