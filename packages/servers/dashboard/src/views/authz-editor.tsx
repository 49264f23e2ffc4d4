import { useMemo } from 'preact/hooks';
import { api } from '../api/client.js';
import type { AuthorizationAnswer } from '../api/types.js';
import { authorizationToText, checkAuthorizationText } from '../logic/authorization-text.js';
import {
  DocumentProblems,
  DocumentTextArea,
  EditorActions,
  FormatChoice,
  useDocumentEditor,
} from './document-editor.js';

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
  const editor = useDocumentEditor((format) => authorizationToText(opened, format));
  const check = useMemo(() => checkAuthorizationText(editor.text), [editor.text]);

  const save = (): void => {
    const body = check.document;
    if (body === undefined) return;
    void editor.save(async () => {
      const answer = await api<{ revision: number }>(
        'PUT',
        '/v1/authorization',
        body,
        opened === undefined ? {} : { 'if-match': `"${opened.revision}"` },
      );
      onSaved(answer.revision);
    }, 'The rules or policies changed since the editor was opened: cancel and edit again.');
  };

  return (
    <section class="panel editor" aria-labelledby="authz-editor-title">
      <h3 id="authz-editor-title">Edit the policies</h3>
      <FormatChoice name="authz-format" editor={editor} />
      <DocumentTextArea
        id="authz-text"
        label="Policies"
        editor={editor}
        errors={check.errors}
        invalid={check.errors.length > 0 || (editor.refusal?.issues.length ?? 0) > 0}
        describedBy="authz-problems"
      />
      <DocumentProblems
        id="authz-problems"
        editor={editor}
        errors={check.errors}
        refused="The controller refused them"
        clear={<p class="hint">The controller checks the policies when they are saved.</p>}
      />
      <EditorActions
        editor={editor}
        label="Save policies"
        disabled={check.document === undefined}
        onSave={save}
        onCancel={onCancel}
      />
    </section>
  );
}
