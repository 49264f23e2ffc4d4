import type { AuthorizationAnswer } from '../api/types.js';
import { type PlacedIssue, parseText, type RuleFormat, ruleToText } from './rule-text.js';

/** What the policy editor's text holds: the document to send, or why it cannot be sent. */
export interface AuthorizationTextCheck {
  /** The body of `PUT /v1/authorization`, when the text is a document. */
  readonly document: { readonly defaultAction?: unknown; readonly policies: readonly unknown[] } | undefined;
  readonly errors: readonly PlacedIssue[];
}

/** The namespace's policies as the editor starts: the document without its revision. */
export function authorizationToText(answer: AuthorizationAnswer | undefined, format: RuleFormat): string {
  return ruleToText({ defaultAction: answer?.defaultAction ?? 'allow', policies: answer?.policies ?? [] }, format);
}

const top = (message: string): PlacedIssue => ({ path: '(top)', message, line: 1, severity: 'error' });

/**
 * Reads the editor's text: its syntax and its outline (`{defaultAction?, policies: [...]}`, or a
 * bare list of policies, as `weft authz-set` takes). The policies themselves are checked by the
 * controller when saved — core's schema checks CIDRs with `node:net`, which a browser lacks — and
 * its refusal is placed at each field (`placeIssues`).
 */
export function checkAuthorizationText(text: string): AuthorizationTextCheck {
  if (text.trim() === '') return { document: undefined, errors: [top('is empty: write {"policies": []}')] };
  const parsed = parseText(text);
  if (!('value' in parsed)) return { document: undefined, errors: [parsed.error] };
  const { value } = parsed;
  if (Array.isArray(value)) return { document: { policies: value }, errors: [] };
  if (typeof value !== 'object' || value === null || !Array.isArray((value as { policies?: unknown }).policies))
    return { document: undefined, errors: [top('must be {defaultAction?, policies: [...]} or a list of policies')] };
  // `authz-get -o json` carries the revision it was read at: not part of the policies.
  const { revision: _revision, ...document } = value as { policies: unknown[]; revision?: unknown };
  return { document, errors: [] };
}
