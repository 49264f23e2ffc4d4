import type { ComponentChildren, RefObject } from 'preact';
import { useRef, useState } from 'preact/hooks';
import { ApiError } from '../api/client.js';
import { type DocumentRefusal, documentRefusal, gutterClass, lineStart } from '../logic/document-text.js';
import { convertText, type PlacedIssue, type RuleFormat } from '../logic/rule-text.js';

/**
 * The state of a JSON or YAML document editor (the rule editor, the policy editor): its text and
 * format, the save under way and the controller's refusal of the last one. What the text means,
 * and how it is written, is each editor's own.
 */
export interface DocumentEditor {
  readonly format: RuleFormat;
  readonly text: string;
  readonly saving: boolean;
  readonly refusal: DocumentRefusal | undefined;
  readonly area: RefObject<HTMLTextAreaElement | null>;
  /** Rewrites the text in the other format (left as typed when it does not parse). */
  switchFormat(to: RuleFormat): void;
  /** The text as typed: a refusal of the text before it no longer applies. */
  edit(text: string): void;
  /** Moves the caret to the start of a 1-based line (an issue's). */
  goToLine(line: number | undefined): void;
  /**
   * Runs `write`; its refusal is kept with its issues placed in the text. `staleMessage` is what
   * a 412 says: the document changed since the editor read it.
   */
  save(write: () => Promise<void>, staleMessage: string): Promise<void>;
}

/** A document editor whose text starts as `initialText` gives it in JSON. */
export function useDocumentEditor(initialText: (format: RuleFormat) => string): DocumentEditor {
  const [format, setFormat] = useState<RuleFormat>('json');
  const [text, setText] = useState(() => initialText('json'));
  const [saving, setSaving] = useState(false);
  const [refusal, setRefusal] = useState<DocumentRefusal | undefined>(undefined);
  const area = useRef<HTMLTextAreaElement>(null);

  return {
    format,
    text,
    saving,
    refusal,
    area,
    switchFormat(to) {
      const converted = convertText(text, to);
      if (converted !== undefined) setText(converted);
      setFormat(to);
    },
    edit(typed) {
      setText(typed);
      setRefusal(undefined);
    },
    goToLine(line) {
      const el = area.current;
      if (el === null || line === undefined) return;
      const start = lineStart(text, line);
      el.focus();
      el.setSelectionRange(start, start);
    },
    async save(write, staleMessage) {
      setSaving(true);
      setRefusal(undefined);
      try {
        await write();
      } catch (err) {
        setRefusal(
          err instanceof ApiError
            ? documentRefusal(text, err, staleMessage)
            : { message: err instanceof Error ? err.message : String(err), issues: [] },
        );
      } finally {
        setSaving(false);
      }
    },
  };
}

/** The JSON / YAML switch: a radio group named `name`. */
export function FormatChoice({ name, editor }: { name: string; editor: DocumentEditor }) {
  return (
    <fieldset class="format">
      <legend>Format</legend>
      {(['json', 'yaml'] as const).map((f) => (
        <label key={f}>
          <input
            type="radio"
            name={name}
            value={f}
            checked={editor.format === f}
            onChange={() => editor.switchFormat(f)}
          />
          {f.toUpperCase()}
        </label>
      ))}
    </fieldset>
  );
}

interface TextAreaProps {
  readonly id: string;
  /** What the text is (`Rule`): the label says it with the format, `Rule (JSON)`. */
  readonly label: string;
  readonly editor: DocumentEditor;
  /** The text's own errors: their lines are marked in the gutter, as are the refusal's. */
  readonly errors: readonly PlacedIssue[];
  /** Lines to mark as remarks (lint), under the errors. */
  readonly remarks?: readonly PlacedIssue[];
  readonly invalid: boolean;
  /** The id of the element listing the text's problems. */
  readonly describedBy: string;
}

/** The document's label and textarea, with a gutter of line numbers that marks the lines with problems. */
export function DocumentTextArea({ id, label, editor, errors, remarks = [], invalid, describedBy }: TextAreaProps) {
  const lines = editor.text.split('\n').length;
  const errorLines = new Set([...errors, ...(editor.refusal?.issues ?? [])].map((i) => i.line));
  const remarkLines = new Set(remarks.map((i) => i.line));
  return (
    <>
      <label for={id} class="field-label">
        {label} ({editor.format.toUpperCase()})
      </label>
      <div class="code-editor">
        <pre class="gutter" aria-hidden="true">
          {Array.from({ length: lines }, (_, i) => (
            <span key={i} class={gutterClass(i + 1, errorLines, remarkLines)}>
              {i + 1}
              {'\n'}
            </span>
          ))}
        </pre>
        <textarea
          id={id}
          ref={editor.area}
          value={editor.text}
          rows={Math.max(12, lines + 1)}
          wrap="off"
          spellcheck={false}
          aria-invalid={invalid}
          aria-describedby={describedBy}
          onInput={(e) => editor.edit(e.currentTarget.value)}
        />
      </div>
    </>
  );
}

interface ProblemsProps {
  /** The region's id, which the textarea names as describing it. */
  readonly id: string;
  readonly editor: DocumentEditor;
  /** The text's own errors. */
  readonly errors: readonly PlacedIssue[];
  /** What the refusal's line starts with: `The controller refused it`. */
  readonly refused: string;
  /** Shown while the text has no error and no refusal stands. */
  readonly clear: ComponentChildren;
  /** The editor's own lists, after the refusal (the rule editor's lint). */
  readonly children?: ComponentChildren;
}

/** The live region under the text: its errors, the controller's refusal of the last save, and the editor's own lists. */
export function DocumentProblems({ id, editor, errors, refused, clear, children }: ProblemsProps) {
  return (
    <div id={id} aria-live="polite">
      {errors.length === 0 && editor.refusal === undefined ? clear : null}
      <IssueList title="Errors" issues={errors} goToLine={editor.goToLine} />
      <RefusalNote lead={refused} editor={editor} />
      {children}
    </div>
  );
}

/** The controller's refusal of the last save, `lead` saying what it refused, with the fields it names. */
function RefusalNote({ lead, editor }: { lead: string; editor: DocumentEditor }) {
  if (editor.refusal === undefined) return null;
  return (
    <div class="refusal" role="alert">
      <p class="error-text">
        {lead}: {editor.refusal.message}
      </p>
      <IssueList title="Fields" issues={editor.refusal.issues} goToLine={editor.goToLine} />
    </div>
  );
}

/** The editor's save and cancel buttons. */
export function EditorActions({
  editor,
  label,
  disabled,
  onSave,
  onCancel,
}: {
  editor: DocumentEditor;
  /** The save button's words when no save is under way. */
  label: string;
  disabled: boolean;
  onSave: () => void;
  onCancel: () => void;
}) {
  return (
    <div class="actions">
      <button type="button" class="primary" disabled={editor.saving || disabled} onClick={onSave}>
        {editor.saving ? 'Saving…' : label}
      </button>
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
    </div>
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
