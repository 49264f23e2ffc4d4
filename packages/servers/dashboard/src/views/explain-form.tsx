import { useState } from 'preact/hooks';
import { ApiError, api } from '../api/client.js';
import type { ErrorIssue } from '../api/types.js';
import { issuesByField, refusalText } from '../logic/refusal.js';

interface ExplainFormOptions<F, R> {
  /** The fields as the form opens. */
  readonly empty: F;
  /** The form's problems, by field, or the request body to send. */
  readonly build: (fields: F) => { request: R } | { problems: Record<string, string> };
  /** Where the request is POSTed. */
  readonly endpoint: string;
  /** The field a refusal's issue belongs to, if any: such issues go beside their inputs. */
  readonly fieldOf?: (issue: ErrorIssue) => (keyof F & string) | undefined;
}

/** What an input of the form needs: its value, its handler, and its problem when it has one. */
export interface FieldState {
  readonly value: string;
  readonly onInput: (e: { currentTarget: { value: string } }) => void;
  readonly problem: string | undefined;
}

/**
 * An explain form's state (the rules' and the policies'): the fields as typed, each field's
 * problem, and the controller's answer or failure. Submitting checks the fields with `build`
 * and, if they hold, POSTs the request; a refusal's issues are placed beside their fields.
 */
export function useExplainForm<F extends Readonly<Record<keyof F, string>>, R, A>({
  empty,
  build,
  endpoint,
  fieldOf,
}: ExplainFormOptions<F, R>) {
  const [fields, setFields] = useState<F>(empty);
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [answer, setAnswer] = useState<A | undefined>(undefined);
  const [failure, setFailure] = useState<string | undefined>(undefined);

  const fieldState = (name: keyof F & string): FieldState => ({
    value: fields[name],
    onInput: (e) => setFields({ ...fields, [name]: e.currentTarget.value }),
    problem: problems[name],
  });

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    const built = build(fields);
    if ('problems' in built) {
      setProblems(built.problems);
      return;
    }
    setProblems({});
    setFailure(undefined);
    try {
      setAnswer(await api<A>('POST', endpoint, built.request));
    } catch (err) {
      setAnswer(undefined);
      if (!(err instanceof ApiError)) {
        setFailure(String(err));
        return;
      }
      // The controller's refusal may name fields (`peer.identity.trustDomain`): each goes beside its input.
      if (fieldOf !== undefined) setProblems(issuesByField(err.body.issues ?? [], fieldOf));
      setFailure(refusalText(err));
    }
  };

  return { fieldState, answer, failure, submit };
}

interface ExplainFieldProps extends FieldState {
  /** The input's id; its note (hint or problem) is `<id>-note`. */
  readonly id: string;
  readonly label: string;
  /** Shown under the input while it has no problem. */
  readonly hint?: string | undefined;
  /** The id of a datalist of suggestions. */
  readonly list?: string | undefined;
  /** A textarea (one entry a line) rather than an input. */
  readonly multiline?: boolean;
}

/** One field of an explain form: label, input, and a note that gives the hint or the field's problem. */
export function ExplainField({ id, label, hint, list, multiline = false, value, onInput, problem }: ExplainFieldProps) {
  const note = `${id}-note`;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {multiline ? (
        <textarea
          id={id}
          rows={3}
          value={value}
          onInput={onInput}
          aria-invalid={problem !== undefined}
          aria-describedby={note}
        />
      ) : (
        <input
          id={id}
          value={value}
          onInput={onInput}
          list={list}
          aria-invalid={problem !== undefined}
          aria-describedby={note}
        />
      )}
      <small id={note} class={problem === undefined ? 'hint' : 'error-text'}>
        {problem ?? hint ?? ''}
      </small>
    </div>
  );
}
