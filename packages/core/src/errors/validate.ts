import * as z from 'zod/mini';
import { InvalidArgumentError, type ValidationIssue } from './specific.js';

/** Formats a zod issue path as `a.b[2].c`, the form every Weft error message uses. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** Converts zod issues to Weft's {@link ValidationIssue}s (all of them, in order). */
export function toValidationIssues(error: z.core.$ZodError): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const issue of error.issues) {
    // Unions report the failure of each branch; name the branch problems rather than "Invalid input".
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const nested = issue.errors
        .map((branch) =>
          branch.map((b) => `${formatPath([...issue.path, ...b.path]) || '(root)'}: ${b.message}`).join(', '),
        )
        .join(' | or | ');
      issues.push({ path: formatPath(issue.path), message: `${issue.message} (${nested})` });
      continue;
    }
    issues.push({ path: formatPath(issue.path), message: issue.message });
  }
  return issues;
}

/**
 * Parses `input` with `schema`, returning the typed output or throwing an
 * {@link InvalidArgumentError} that names every offending field. Never lets a raw ZodError escape.
 *
 * @param what - a noun for the message, e.g. `"registration"`.
 */
export function parseOrThrow<S extends z.core.$ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = z.safeParse(schema, input);
  if (result.success) return result.data;
  throw new InvalidArgumentError(what, toValidationIssues(result.error), { cause: result.error });
}
