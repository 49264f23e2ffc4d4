import { type Refused, refusalText } from './refusal.js';
import { type PlacedIssue, placeIssues } from './rule-text.js';

/** Why the controller refused a document editor's text: its words, and its issues placed in the text. */
export interface DocumentRefusal {
  readonly message: string;
  readonly issues: readonly PlacedIssue[];
}

/**
 * The controller's refusal of a document's text. 412 means the document changed since the editor
 * read it (the `If-Match` revision is stale): `staleMessage` says what to do then, as the
 * controller's own words ("precondition failed") would not.
 */
export function documentRefusal(text: string, refused: Refused, staleMessage: string): DocumentRefusal {
  return {
    message: refused.status === 412 ? staleMessage : refusalText(refused),
    issues: placeIssues(text, refused.body.issues ?? []),
  };
}

/** The offset in `text` where its 1-based `line` starts (past the text's end for a line beyond it: a textarea clamps it). */
export function lineStart(text: string, line: number): number {
  return (
    text
      .split('\n')
      .slice(0, line - 1)
      .join('\n').length + (line > 1 ? 1 : 0)
  );
}

/** The gutter's mark for a 1-based line: an error outweighs a remark. */
export function gutterClass(
  line: number,
  errorLines: ReadonlySet<number | undefined>,
  remarkLines: ReadonlySet<number | undefined>,
): string {
  return errorLines.has(line) ? 'line-error' : remarkLines.has(line) ? 'line-remark' : '';
}
