import { useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, api } from '../api/client.js';
import type { RuleWarning, StoredRule, WriteAnswer } from '../api/types.js';
import {
  checkRuleText,
  convertText,
  type KnownInstances,
  NEW_RULE_TEMPLATE,
  type PlacedIssue,
  placeIssues,
  type RuleFormat,
  ruleToText,
} from '../logic/rule-text.js';

/** What the editor edits: a new rule, or a stored one (by id). */
export type EditTarget = { readonly kind: 'new' } | { readonly kind: 'edit'; readonly rule: StoredRule };

/** The editor's text for a target: a stored rule without its id, which the editor keeps aside. */
function initialText(target: EditTarget, format: RuleFormat): string {
  if (target.kind === 'new') return ruleToText(NEW_RULE_TEMPLATE, format);
  const { id: _id, ...rest } = target.rule;
  return ruleToText(rest, format);
}

interface Props {
  readonly target: EditTarget;
  /** The namespace's revision when the editing began: an edit is written only if it is still current. */
  readonly revision: number | undefined;
  readonly instances: KnownInstances | undefined;
  readonly onSaved: (answer: WriteAnswer) => void;
  readonly onCancel: () => void;
}

/**
 * A rule as JSON or YAML text, checked as it is typed with the controller's own schema
 * (`parseRules`) and `lint`, every problem listed with its field path and line; saved with
 * `POST /v1/rules` (new) or `PUT /v1/rules` (by id, `If-Match` the revision it was read at).
 * The controller's refusal, if any, is placed the same way.
 */
export function RuleEditor({ target, revision, instances, onSaved, onCancel }: Props) {
  const [format, setFormat] = useState<RuleFormat>('json');
  const [text, setText] = useState(() => initialText(target, 'json'));
  const [saving, setSaving] = useState(false);
  const [refusal, setRefusal] = useState<{ message: string; issues: PlacedIssue[] } | undefined>(undefined);
  const area = useRef<HTMLTextAreaElement>(null);
  const check = useMemo(() => checkRuleText(text, instances), [text, instances]);
  const lines = text.split('\n').length;
  const errorLines = new Set([...check.errors, ...(refusal?.issues ?? [])].map((i) => i.line));
  const remarkLines = new Set(check.remarks.map((i) => i.line));
  const title = target.kind === 'new' ? 'New rule' : `Edit rule ${target.rule.id}`;

  const switchFormat = (to: RuleFormat): void => {
    const converted = convertText(text, to);
    if (converted !== undefined) setText(converted);
    setFormat(to);
  };

  const goToLine = (line: number | undefined): void => {
    const el = area.current;
    if (el === null || line === undefined) return;
    const start =
      text
        .split('\n')
        .slice(0, line - 1)
        .join('\n').length + (line > 1 ? 1 : 0);
    el.focus();
    el.setSelectionRange(start, start);
  };

  const save = async (): Promise<void> => {
    if (check.rules === undefined || check.errors.length > 0) return;
    setSaving(true);
    setRefusal(undefined);
    try {
      const answer =
        target.kind === 'new'
          ? await api<WriteAnswer>('POST', '/v1/rules', { rules: check.rules })
          : await api<WriteAnswer>(
              'PUT',
              '/v1/rules',
              { rules: [{ ...(check.rules[0] as object), id: target.rule.id }] },
              revision === undefined ? {} : { 'if-match': `"${revision}"` },
            );
      onSaved(answer);
    } catch (err) {
      if (err instanceof ApiError) {
        const message =
          err.status === 412
            ? 'The rules changed since this rule was opened: close the editor and open the rule again.'
            : `${err.body.code ?? err.status}: ${err.body.error}`;
        setRefusal({ message, issues: placeIssues(text, err.body.issues ?? []) });
      } else setRefusal({ message: err instanceof Error ? err.message : String(err), issues: [] });
    } finally {
      setSaving(false);
    }
  };

  return (
    <section class="panel editor" aria-labelledby="editor-title">
      <h3 id="editor-title">{title}</h3>
      <fieldset class="format">
        <legend>Format</legend>
        {(['json', 'yaml'] as const).map((f) => (
          <label key={f}>
            <input type="radio" name="rule-format" value={f} checked={format === f} onChange={() => switchFormat(f)} />
            {f.toUpperCase()}
          </label>
        ))}
      </fieldset>
      <label for="rule-text" class="field-label">
        Rule ({format.toUpperCase()})
      </label>
      <div class="code-editor">
        <pre class="gutter" aria-hidden="true">
          {Array.from({ length: lines }, (_, i) => (
            <span key={i} class={errorLines.has(i + 1) ? 'line-error' : remarkLines.has(i + 1) ? 'line-remark' : ''}>
              {i + 1}
              {'\n'}
            </span>
          ))}
        </pre>
        <textarea
          id="rule-text"
          ref={area}
          value={text}
          rows={Math.max(12, lines + 1)}
          wrap="off"
          spellcheck={false}
          aria-invalid={check.errors.length > 0}
          aria-describedby="rule-problems"
          onInput={(e) => {
            setText(e.currentTarget.value);
            setRefusal(undefined);
          }}
        />
      </div>
      <div id="rule-problems" aria-live="polite">
        {check.errors.length === 0 && refusal === undefined ? (
          <p class="valid">
            Valid
            {check.remarks.length > 0
              ? `, with ${check.remarks.length} remark${check.remarks.length === 1 ? '' : 's'}`
              : ''}
            .
          </p>
        ) : null}
        <IssueList title="Errors" issues={check.errors} goToLine={goToLine} />
        {refusal === undefined ? null : (
          <div class="refusal" role="alert">
            <p class="error-text">The controller refused it: {refusal.message}</p>
            <IssueList title="Fields" issues={refusal.issues} goToLine={goToLine} />
          </div>
        )}
        <IssueList title="Lint" issues={check.remarks} goToLine={goToLine} />
      </div>
      <div class="actions">
        <button
          type="button"
          class="primary"
          disabled={saving || check.errors.length > 0 || check.rules === undefined}
          onClick={() => void save()}
        >
          {saving ? 'Saving…' : target.kind === 'new' ? 'Create rule' : 'Save rule'}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </section>
  );
}

/** Issues with their field paths, each line a button that moves the editor's caret there. */
export function IssueList({
  title,
  issues,
  goToLine,
}: {
  title: string;
  issues: readonly PlacedIssue[];
  goToLine: (line: number | undefined) => void;
}) {
  if (issues.length === 0) return null;
  return (
    <div class="issues">
      <h4>{title}</h4>
      <ul class="issue-list">
        {issues.map((issue, i) => (
          <li key={`${issue.path}-${i}`} class={`issue issue-${issue.severity}`} data-path={issue.path}>
            {issue.line === undefined ? null : (
              <button type="button" class="link" onClick={() => goToLine(issue.line)}>
                line {issue.line}
              </button>
            )}{' '}
            <code class="issue-path">{issue.path}</code>: <span class="issue-message">{issue.message}</span>
            {issue.code === undefined ? null : <span class="issue-code"> ({issue.code})</span>}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** The controller's write warnings, as they came back from a save. */
export function WriteWarnings({ warnings }: { warnings: readonly RuleWarning[] }) {
  if (warnings.length === 0) return null;
  return (
    <div class="issues" aria-live="polite">
      <h4>The controller's warnings</h4>
      <ul class="issue-list">
        {warnings.map((w, i) => (
          <li key={`${w.id}-${w.code}-${i}`} class={`issue issue-${w.severity}`}>
            <code>{w.path ?? w.id}</code>: {w.message} <span class="issue-code">({w.code})</span>
          </li>
        ))}
      </ul>
    </div>
  );
}
