import type * as z from 'zod/mini';
import { InvalidArgumentError, type ValidationIssue } from '../errors/specific.js';
import { formatPath } from '../errors/validate.js';
import { reservedNameIssues } from './reserved-names.js';
import { type RulesDocument, RulesDocumentSchema } from './rule-schema.js';

type Issue = z.core.$ZodIssue;

/**
 * Flattens zod issues into {@link ValidationIssue}s. Unions (`"Cookie": "regex"` vs
 * `{"exact": …}`, seconds vs `"250ms"`) otherwise report "Invalid input" at the union's path;
 * here the branch whose *type* the value has is reported instead, with the full path of the
 * problem inside it, e.g. `rules[0].match.headers.Cookie.regex: invalid regular expression …`.
 */
export function ruleIssues(issues: readonly Issue[], prefix: readonly PropertyKey[] = []): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code !== 'invalid_union' || issue.errors.length === 0) {
      // A missing field fails with a type message ("must be a string"); say it plainly.
      const missing = issue.code === 'invalid_type' && 'input' in issue && issue.input === undefined;
      out.push({ path: formatPath(path), message: missing ? 'is required' : issue.message });
      continue;
    }
    // A branch "fits" when the value had the branch's type (its failure is not a type mismatch at its root).
    const fitting = issue.errors.filter(
      (branch) => !branch.some((b) => b.code === 'invalid_type' && b.path.length === 0),
    );
    if ('input' in issue && issue.input === undefined) {
      out.push({ path: formatPath(path), message: 'is required' });
      continue;
    }
    const only = fitting.length === 1 ? fitting[0] : undefined;
    if (only !== undefined) {
      out.push(...ruleIssues(only, path));
      continue;
    }
    const expected = issue.errors
      .flatMap((branch) => branch.filter((b) => b.code === 'invalid_type' && b.path.length === 0))
      .map((b) => (b as z.core.$ZodIssueInvalidType).expected);
    out.push({
      path: formatPath(path),
      message: expected.length > 0 ? `must be a ${[...new Set(expected)].join(' or ')}` : issue.message,
    });
  }
  return out;
}

/**
 * Validates rules and returns them as a {@link RulesDocument}. Accepts Amalgam8's
 * `{rules: [...], revision?}` document or a bare array of rules (paths still read `rules[i]…`).
 *
 * @throws InvalidArgumentError listing every problem with its JSON path.
 */
export function parseRules(input: unknown): RulesDocument {
  const doc = Array.isArray(input) ? { rules: input } : input;
  // reportInput lets ruleIssues tell a missing field from a wrongly typed one.
  const result = RulesDocumentSchema.safeParse(doc, { reportInput: true });
  const reserved = reservedNameIssues(
    typeof doc === 'object' && doc !== null ? (doc as { rules?: unknown }).rules : undefined,
  );
  if (result.success && reserved.length === 0) return result.data;
  const issues = result.success ? reserved : [...ruleIssues(result.error.issues), ...reserved];
  throw new InvalidArgumentError('rules', issues, result.success ? {} : { cause: result.error });
}
