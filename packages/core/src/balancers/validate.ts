import { InvalidArgumentError, type ValidationIssue } from '../errors/index.js';
import { EndpointLoad, EndpointLoads } from './load.js';
import type { BalancerEndpoint } from './picker.js';

/**
 * Option and endpoint checks shared by the pickers. Each check appends to `issues` instead of
 * throwing, so one {@link InvalidArgumentError} can name every bad field at once.
 */

/**
 * Reads every endpoint's weight (default 1) into a typed array, recording an issue for each one
 * that is not a finite number > 0 — a zero or NaN weight would silently starve or break a picker.
 */
export function readWeights(endpoints: readonly BalancerEndpoint[], issues: ValidationIssue[]): Float64Array {
  const weights = new Float64Array(endpoints.length);
  for (let i = 0; i < endpoints.length; i++) {
    const w: unknown = endpoints[i]?.weight ?? 1;
    if (typeof w !== 'number' || !Number.isFinite(w) || w <= 0) {
      issues.push({ path: `endpoints[${i}].weight`, message: `must be a finite number > 0 (got ${String(w)})` });
      weights[i] = 1;
    } else {
      weights[i] = w;
    }
  }
  return weights;
}

/** Records an issue for each endpoint whose `id` is not a string (consistent hashing hashes it). */
export function checkIds(endpoints: readonly BalancerEndpoint[], issues: ValidationIssue[]): void {
  for (let i = 0; i < endpoints.length; i++) {
    const id: unknown = endpoints[i]?.id;
    if (typeof id !== 'string') issues.push({ path: `endpoints[${i}].id`, message: 'must be a string' });
  }
}

/** Checks an optional number option: finite, ≥ `min` (or > `min` when `exclusive`), integral when asked. */
export function checkNumber(
  value: unknown,
  path: string,
  issues: ValidationIssue[],
  rule: { min: number; exclusive?: boolean; integer?: boolean },
): void {
  if (value === undefined) return;
  const bound = rule.exclusive ? `> ${rule.min}` : `>= ${rule.min}`;
  const kind = rule.integer ? 'an integer' : 'a finite number';
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (rule.exclusive ? value > rule.min : value >= rule.min) &&
    (!rule.integer || Number.isInteger(value));
  if (!ok) issues.push({ path, message: `must be ${kind} ${bound} (got ${String(value)})` });
}

/** Checks an optional function option (an injected RNG). */
export function checkFunction(value: unknown, path: string, issues: ValidationIssue[]): void {
  if (value !== undefined && typeof value !== 'function') issues.push({ path, message: 'must be a function' });
}

/** Checks an optional {@link Clock}-shaped option (only `now` is used by the pickers). */
export function checkClock(value: unknown, path: string, issues: ValidationIssue[]): void {
  if (value === undefined) return;
  if (typeof value !== 'object' || value === null || typeof (value as { now?: unknown }).now !== 'function') {
    issues.push({ path, message: 'must be a Clock (an object with now())' });
  }
}

/** Throws one {@link InvalidArgumentError} naming every issue, if there is any. */
export function throwIfInvalid(what: string, issues: readonly ValidationIssue[]): void {
  if (issues.length > 0) throw new InvalidArgumentError(what, issues);
}

/**
 * Checks the `loads` option (an {@link EndpointLoads}) and each endpoint's own `load` (an
 * {@link EndpointLoad} of this package: its slot indexes this package's load table).
 */
export function checkLoads(endpoints: readonly BalancerEndpoint[], loads: unknown, issues: ValidationIssue[]): void {
  if (loads !== undefined && !(loads instanceof EndpointLoads))
    issues.push({ path: 'loads', message: 'must be an EndpointLoads' });
  for (let i = 0; i < endpoints.length; i++) {
    const load: unknown = endpoints[i]?.load;
    if (load !== undefined && !(load instanceof EndpointLoad))
      issues.push({ path: `endpoints[${i}].load`, message: 'must be an EndpointLoad' });
  }
}
