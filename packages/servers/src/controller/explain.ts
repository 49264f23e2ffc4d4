import {
  compile,
  createRng,
  type Explanation,
  formatExplanation,
  InvalidArgumentError,
  type RuleRequest,
  type RuleSet,
  type ValidationIssue,
} from '@weft/core';
import { StoredRulesInvalidError } from '../rules-store/errors.js';
import type { NamespaceRules } from '../rules-store/types.js';
import { queryValue, queryValues } from './query.js';

/**
 * The request `GET|POST /v1/rules/explain` explains. As JSON (POST body):
 * `{destination, source?: {name, tags?, ip?}, method?, path?, headers?: {Name: value | [values]}, seed?}`.
 * As a query (GET): `destination`, `source`, `source_tag` (repeatable), `source_ip`, `method`,
 * `path`, `header=Name: value` (repeatable), `seed`.
 */
export interface ExplainInput {
  readonly request: RuleRequest;
  /** Seeds the weighted draw so the same input gives the same choice; random when absent. */
  readonly seed: number | undefined;
}

/**
 * The answer: core's `Explanation` as JSON — `destination`, `revision` (of the rules used),
 * `status` (`route` | `no_rules` | `no_match`), `routeRules` and `actionRules` (each
 * `{rule: {id, index, priority, destination, kind, tags}, outcome: matched | not_matched |
 * not_evaluated, failures: [{condition, expected, actual}]}`; `index` is the rule's place in
 * `GET /v1/rules`), `choice` (backends with weights and shares, the draw, the chosen index) and
 * `decision` (what a proxy would do: backend, timeoutMs, retries, rewritePath, mirror, actions)
 * — plus `text`, the same rendered for people.
 */
export type ExplainOutput = Explanation & { readonly text: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

function parseSeed(v: unknown, issues: ValidationIssue[]): number | undefined {
  if (v === undefined) return undefined;
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n === 'number' && Number.isSafeInteger(n)) return n;
  issues.push({ path: 'seed', message: 'must be an integer' });
  return undefined;
}

/** Reads the explain input from a query string. @throws InvalidArgumentError naming each bad parameter. */
export function explainInputFromQuery(query: unknown): ExplainInput {
  const issues: ValidationIssue[] = [];
  const destination = queryValue(query, 'destination');
  if (destination === undefined) issues.push({ path: 'destination', message: 'is required' });
  const headers: Record<string, string | string[]> = Object.create(null);
  for (const h of queryValues(query, 'header')) {
    const colon = h.indexOf(':');
    if (colon <= 0) {
      issues.push({ path: 'header', message: `must be "Name: value" (got ${JSON.stringify(h)})` });
      continue;
    }
    addHeader(headers, h.slice(0, colon).trim(), h.slice(colon + 1).trim());
  }
  const name = queryValue(query, 'source');
  const tags = queryValues(query, 'source_tag');
  const ip = queryValue(query, 'source_ip');
  if (name === undefined && (tags.length > 0 || ip !== undefined))
    issues.push({ path: 'source', message: 'is required with source_tag or source_ip' });
  const seed = parseSeed(queryValue(query, 'seed'), issues);
  if (issues.length > 0) throw new InvalidArgumentError('explain request', issues);
  return {
    request: {
      destination: destination as string,
      source: name === undefined ? undefined : { name, tags, ip },
      method: queryValue(query, 'method'),
      path: queryValue(query, 'path'),
      headers,
    },
    seed,
  };
}

/** Reads the explain input from a JSON body. @throws InvalidArgumentError naming each bad field. */
export function explainInputFromBody(body: unknown): ExplainInput {
  if (!isRecord(body))
    throw new InvalidArgumentError('explain request', [{ path: '', message: 'must be a JSON object' }]);
  const issues: ValidationIssue[] = [];
  const { destination, source, method, path, headers, seed } = body;
  for (const key of Object.keys(body))
    if (!['destination', 'source', 'method', 'path', 'headers', 'seed'].includes(key))
      issues.push({ path: key, message: 'is not a field of an explain request' });
  if (typeof destination !== 'string' || destination === '')
    issues.push({ path: 'destination', message: destination === undefined ? 'is required' : 'must be a string' });
  let from: RuleRequest['source'];
  if (source !== undefined) {
    if (!isRecord(source) || typeof source.name !== 'string')
      issues.push({ path: 'source.name', message: 'is required (a service name)' });
    else if (source.tags !== undefined && !stringList(source.tags))
      issues.push({ path: 'source.tags', message: 'must be an array of strings' });
    else if (source.ip !== undefined && typeof source.ip !== 'string')
      issues.push({ path: 'source.ip', message: 'must be a string' });
    else from = { name: source.name, tags: source.tags as string[] | undefined, ip: source.ip as string | undefined };
  }
  if (method !== undefined && typeof method !== 'string') issues.push({ path: 'method', message: 'must be a string' });
  if (path !== undefined && typeof path !== 'string') issues.push({ path: 'path', message: 'must be a string' });
  const lower: Record<string, string | string[]> = Object.create(null);
  if (headers !== undefined) {
    if (!isRecord(headers)) issues.push({ path: 'headers', message: 'must be an object of header values' });
    else
      for (const [name, value] of Object.entries(headers)) {
        if (typeof value === 'string') addHeader(lower, name, value);
        else if (stringList(value)) for (const v of value) addHeader(lower, name, v);
        else issues.push({ path: `headers.${name}`, message: 'must be a string or an array of strings' });
      }
  }
  const seeded = parseSeed(seed, issues);
  if (issues.length > 0) throw new InvalidArgumentError('explain request', issues);
  return {
    request: {
      destination: destination as string,
      source: from,
      method: method as string | undefined,
      path: path as string | undefined,
      headers: lower,
    },
    seed: seeded,
  };
}

/** Adds a header under its lower-case name (what rules read), repeated values kept in order. */
function addHeader(headers: Record<string, string | string[]>, name: string, value: string): void {
  const key = name.toLowerCase();
  const had = headers[key];
  headers[key] = had === undefined ? value : [...(Array.isArray(had) ? had : [had]), value];
}

/** Compiled rule sets by snapshot: a snapshot is immutable, so its compilation can be shared. */
const compiled = new WeakMap<NamespaceRules, RuleSet>();

/**
 * Explains `input` against a namespace's rules, compiled once per revision.
 *
 * @throws StoredRulesInvalidError (500) if the stored rules no longer compile (a rule engine that
 *   became stricter since they were stored); the message names the rule.
 */
export function explain(ns: NamespaceRules, input: ExplainInput): ExplainOutput {
  let rules = compiled.get(ns);
  if (rules === undefined) {
    try {
      rules = compile({ rules: ns.rules }, { revision: ns.revision });
    } catch (err) {
      if (err instanceof InvalidArgumentError) throw new StoredRulesInvalidError(ns.namespace, err);
      throw err;
    }
    compiled.set(ns, rules);
  }
  const explanation =
    input.seed === undefined ? rules.explain(input.request) : rules.explain(input.request, createRng(input.seed));
  return { ...explanation, text: formatExplanation(explanation) };
}
