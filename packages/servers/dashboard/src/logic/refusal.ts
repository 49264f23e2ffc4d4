import type { ErrorBody, ErrorIssue } from '../api/types.js';

/** A request the servers refused, as `api` rejects with it: its status and error body. */
export interface Refused {
  readonly status: number;
  readonly body: ErrorBody;
}

/** A refusal in one line, as the dashboard shows it: `CODE: error` (the status when the body has no code). */
export function refusalText(refused: Refused): string {
  return `${refused.body.code ?? refused.status}: ${refused.body.error}`;
}

/**
 * A refusal's issues placed beside the form fields they name (`peer.identity.trustDomain` →
 * `identity`), the first issue of each field only: `fieldOf` maps an issue's path to its field,
 * or to none when no field of the form holds it (such issues are left to the refusal's text).
 */
export function issuesByField(
  issues: readonly ErrorIssue[],
  fieldOf: (issue: ErrorIssue) => string | undefined,
): Record<string, string> {
  const placed: Record<string, string> = {};
  for (const issue of issues) {
    const field = fieldOf(issue);
    if (field !== undefined) placed[field] = placed[field] ?? `${issue.path}: ${issue.message}`;
  }
  return placed;
}
