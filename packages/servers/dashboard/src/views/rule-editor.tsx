import { useMemo } from 'preact/hooks';
import { api } from '../api/client.js';
import type { RuleWarning, StoredRule, WriteAnswer } from '../api/types.js';
import {
  checkRuleText,
  type KnownInstances,
  NEW_RULE_TEMPLATE,
  type RuleFormat,
  ruleToText,
} from '../logic/rule-text.js';
import {
  DocumentProblems,
  DocumentTextArea,
  EditorActions,
  FormatChoice,
  IssueList,
  useDocumentEditor,
} from './document-editor.js';

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
  const editor = useDocumentEditor((format) => initialText(target, format));
  const check = useMemo(() => checkRuleText(editor.text, instances), [editor.text, instances]);
  const title = target.kind === 'new' ? 'New rule' : `Edit rule ${target.rule.id}`;

  const save = (): void => {
    const rules = check.rules;
    if (rules === undefined || check.errors.length > 0) return;
    void editor.save(async () => {
      const answer =
        target.kind === 'new'
          ? await api<WriteAnswer>('POST', '/v1/rules', { rules })
          : await api<WriteAnswer>(
              'PUT',
              '/v1/rules',
              { rules: [{ ...(rules[0] as object), id: target.rule.id }] },
              revision === undefined ? {} : { 'if-match': `"${revision}"` },
            );
      onSaved(answer);
    }, 'The rules changed since this rule was opened: close the editor and open the rule again.');
  };

  return (
    <section class="panel editor" aria-labelledby="editor-title">
      <h3 id="editor-title">{title}</h3>
      <FormatChoice name="rule-format" editor={editor} />
      <DocumentTextArea
        id="rule-text"
        label="Rule"
        editor={editor}
        errors={check.errors}
        remarks={check.remarks}
        invalid={check.errors.length > 0}
        describedBy="rule-problems"
      />
      <DocumentProblems
        id="rule-problems"
        editor={editor}
        errors={check.errors}
        refused="The controller refused it"
        clear={
          <p class="valid">
            Valid
            {check.remarks.length > 0
              ? `, with ${check.remarks.length} remark${check.remarks.length === 1 ? '' : 's'}`
              : ''}
            .
          </p>
        }
      >
        <IssueList title="Lint" issues={check.remarks} goToLine={editor.goToLine} />
      </DocumentProblems>
      <EditorActions
        editor={editor}
        label={target.kind === 'new' ? 'Create rule' : 'Save rule'}
        disabled={check.errors.length > 0 || check.rules === undefined}
        onSave={save}
        onCancel={onCancel}
      />
    </section>
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
