import { useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, api } from '../api/client.js';
import type { AuthorizationAnswer } from '../api/types.js';
import { authorizationToText, checkAuthorizationText } from '../logic/authorization-text.js';
import { convertText, type PlacedIssue, placeIssues, type RuleFormat } from '../logic/rule-text.js';
import { IssueList } from './rule-editor.js';

interface Props {
  /** The policies when the editing began: the text starts from them, and the write applies only if they are still current. */
  readonly opened: AuthorizationAnswer | undefined;
  readonly onSaved: (revision: number) => void;
  readonly onCancel: () => void;
}

/**
 * The namespace's authorization as one JSON or YAML document, saved whole with
 * `PUT /v1/authorization` (`If-Match` the revision it was opened at), as `weft authz-set` does: a
 * policy set is reviewed and applied as one. The text's syntax is checked as it is typed; the
 * controller's refusal is placed at each field it names, with its line.
 */
export function AuthzEditor({ opened, onSaved, onCancel }: Props) {
  const [format, setFormat] = useState<RuleFormat>('json');
  const [text, setText] = useState(() => authorizationToText(opened, 'json'));
  const [saving, setSaving] = useState(false);
  const [refusal, setRefusal] = useState<{ message: string; issues: PlacedIssue[] } | undefined>(undefined);
  const area = useRef<HTMLTextAreaElement>(null);
  const check = useMemo(() => checkAuthorizationText(text), [text]);
  const lines = text.split('\n').length;
  const errorLines = new Set([...check.errors, ...(refusal?.issues ?? [])].map((i) => i.line));

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
    if (check.document === undefined) return;
    setSaving(true);
    setRefusal(undefined);
    try {
      const answer = await api<{ revision: number }>(
        'PUT',
        '/v1/authorization',
        check.document,
        opened === undefined ? {} : { 'if-match': `"${opened.revision}"` },
      );
      onSaved(answer.revision);
    } catch (err) {
      if (err instanceof ApiError) {
        const message =
          err.status === 412
            ? 'The rules or policies changed since the editor was opened: cancel and edit again.'
            : `${err.body.code ?? err.status}: ${err.body.error}`;
        setRefusal({ message, issues: placeIssues(text, err.body.issues ?? []) });
      } else setRefusal({ message: err instanceof Error ? err.message : String(err), issues: [] });
    } finally {
      setSaving(false);
    }
  };

  return (
    <section class="panel editor" aria-labelledby="authz-editor-title">
      <h3 id="authz-editor-title">Edit the policies</h3>
      <fieldset class="format">
        <legend>Format</legend>
        {(['json', 'yaml'] as const).map((f) => (
          <label key={f}>
            <input type="radio" name="authz-format" value={f} checked={format === f} onChange={() => switchFormat(f)} />
            {f.toUpperCase()}
          </label>
        ))}
      </fieldset>
      <label for="authz-text" class="field-label">
        Policies ({format.toUpperCase()})
      </label>
      <div class="code-editor">
        <pre class="gutter" aria-hidden="true">
          {Array.from({ length: lines }, (_, i) => (
            <span key={i} class={errorLines.has(i + 1) ? 'line-error' : ''}>
              {i + 1}
              {'\n'}
            </span>
          ))}
        </pre>
        <textarea
          id="authz-text"
          ref={area}
          value={text}
          rows={Math.max(12, lines + 1)}
          wrap="off"
          spellcheck={false}
          aria-invalid={check.errors.length > 0 || (refusal?.issues.length ?? 0) > 0}
          aria-describedby="authz-problems"
          onInput={(e) => {
            setText(e.currentTarget.value);
            setRefusal(undefined);
          }}
        />
      </div>
      <div id="authz-problems" aria-live="polite">
        {check.errors.length === 0 && refusal === undefined ? (
          <p class="hint">The controller checks the policies when they are saved.</p>
        ) : null}
        <IssueList title="Errors" issues={check.errors} goToLine={goToLine} />
        {refusal === undefined ? null : (
          <div class="refusal" role="alert">
            <p class="error-text">The controller refused them: {refusal.message}</p>
            <IssueList title="Fields" issues={refusal.issues} goToLine={goToLine} />
          </div>
        )}
      </div>
      <div class="actions">
        <button
          type="button"
          class="primary"
          disabled={saving || check.document === undefined}
          onClick={() => void save()}
        >
          {saving ? 'Saving…' : 'Save policies'}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </section>
  );
}
