import type { LbPolicy } from '../balancers/registry.js';
import { InvalidArgumentError, type ValidationIssue } from '../errors/specific.js';
import { compileRules } from './compiled-rule.js';
import { LB_TYPES } from './lb-type.js';
import { parseRules } from './parse.js';
import { NO_RETRIES, type RetrySettings } from './retry.js';
import { RuleSet } from './rule-set.js';

/** Options of {@link compile}. */
export interface CompileOptions {
  /** The controller revision of the rules (default: the document's `revision`, if any). */
  readonly revision?: number | undefined;
  /** Timeout of routes without `http_req_timeout`, and of `no_rules` decisions, ms (default 15 000, Amalgam8's). */
  readonly defaultTimeoutMs?: number | undefined;
  /** Retries of routes without `http_req_retries` / `retries`, and of `no_rules` decisions (default: none). */
  readonly defaultRetries?: RetrySettings | undefined;
  /** Load-balancing policy of backends without `lb_type`, and of `no_rules` decisions (default `round_robin`). */
  readonly defaultLbType?: LbPolicy | undefined;
}

/** Amalgam8's default request timeout. */
export const DEFAULT_TIMEOUT_MS = 15_000;

/**
 * Validates and compiles rules into a {@link RuleSet}. All the work — validation, regex
 * compilation, ordering, weight normalisation, indexing by destination — happens here, once.
 *
 * @param input - Amalgam8's `{rules: [...], revision?}` document or an array of rules.
 * @throws InvalidArgumentError naming the JSON path of every problem, e.g.
 *   `rules[1].match.headers.Cookie: invalid regular expression "(": Unterminated group`.
 *
 * @example
 * ```ts
 * import { compile } from '@weft/core';
 *
 * const rules = compile([
 *   { destination: 'reviews', route: { backends: [{ tags: ['version=v2'], weight: 0.25 }, { tags: ['version=v1'] }] } },
 * ]);
 * const decision = rules.evaluate({ destination: 'reviews', path: '/api/1' });
 * console.log(decision.backend?.tags); // ['version=v2'] one time in four, else ['version=v1']
 * ```
 */
export function compile(input: unknown, options: CompileOptions = {}): RuleSet {
  checkOptions(options);
  const doc = parseRules(input);
  const defaults = {
    timeoutMs: options.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS,
    retries: options.defaultRetries ?? NO_RETRIES,
    lbType: options.defaultLbType ?? 'round_robin',
  };
  return new RuleSet(compileRules(doc.rules, defaults), defaults, options.revision ?? doc.revision);
}

function checkOptions(o: CompileOptions): void {
  const issues: ValidationIssue[] = [];
  if (o.defaultTimeoutMs !== undefined && !(Number.isFinite(o.defaultTimeoutMs) && o.defaultTimeoutMs > 0))
    issues.push({ path: 'defaultTimeoutMs', message: 'must be a positive number of milliseconds' });
  if (o.defaultLbType !== undefined && !(LB_TYPES as readonly string[]).includes(o.defaultLbType))
    issues.push({ path: 'defaultLbType', message: `must be one of ${LB_TYPES.join(', ')}` });
  if (o.revision !== undefined && !(Number.isInteger(o.revision) && o.revision >= 0))
    issues.push({ path: 'revision', message: 'must be a non-negative integer' });
  if (issues.length > 0) throw new InvalidArgumentError('compile options', issues);
}
