import { useState } from 'preact/hooks';
import { ApiError, api } from '../api/client.js';
import type { ExplainAnswer } from '../api/types.js';
import { Badge } from '../components/status.js';
import { type ExplainFields, explainRequest } from '../logic/explain-form.js';

const EMPTY: ExplainFields = { destination: '', source: '', sourceTags: '', method: 'GET', path: '/', headers: '' };

/** Explain: describe a request and see which rule the controller's rules pick for it, and which backend. */
export function ExplainPanel({ services }: { services: readonly string[] }) {
  const [fields, setFields] = useState<ExplainFields>(EMPTY);
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [answer, setAnswer] = useState<ExplainAnswer | undefined>(undefined);
  const [failure, setFailure] = useState<string | undefined>(undefined);
  const set = (field: keyof ExplainFields) => (e: { currentTarget: { value: string } }) =>
    setFields({ ...fields, [field]: e.currentTarget.value });

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    const built = explainRequest(fields);
    if ('problems' in built) {
      setProblems(built.problems);
      return;
    }
    setProblems({});
    setFailure(undefined);
    try {
      setAnswer(await api<ExplainAnswer>('POST', '/v1/rules/explain', built.request));
    } catch (err) {
      setAnswer(undefined);
      setFailure(err instanceof ApiError ? `${err.body.code ?? err.status}: ${err.body.error}` : String(err));
    }
  };

  const field = (name: keyof ExplainFields, label: string, hint?: string, multiline = false) => (
    <div class="field">
      <label for={`explain-${name}`}>{label}</label>
      {multiline ? (
        <textarea
          id={`explain-${name}`}
          rows={3}
          value={fields[name]}
          onInput={set(name)}
          aria-invalid={problems[name] !== undefined}
          aria-describedby={`explain-${name}-note`}
        />
      ) : (
        <input
          id={`explain-${name}`}
          value={fields[name]}
          onInput={set(name)}
          list={name === 'destination' || name === 'source' ? 'explain-services' : undefined}
          aria-invalid={problems[name] !== undefined}
          aria-describedby={`explain-${name}-note`}
        />
      )}
      <small id={`explain-${name}-note`} class={problems[name] === undefined ? 'hint' : 'error-text'}>
        {problems[name] ?? hint ?? ''}
      </small>
    </div>
  );

  const decision = answer?.decision;
  return (
    <section class="panel explain" aria-labelledby="explain-title">
      <h3 id="explain-title">Explain a request</h3>
      <form onSubmit={(e) => void submit(e)} class="explain-form">
        <datalist id="explain-services">
          {services.map((s) => (
            <option key={s} value={s} />
          ))}
        </datalist>
        {field('destination', 'Destination service')}
        {field('source', 'Source service', 'the caller, e.g. productpage')}
        {field('sourceTags', 'Source tags', 'comma-separated, e.g. version=v1')}
        {field('method', 'Method')}
        {field('path', 'Path')}
        {field('headers', 'Headers', 'one “Name: value” a line, e.g. Cookie: user=jason', true)}
        <div class="actions">
          <button type="submit" class="primary">
            Explain
          </button>
        </div>
      </form>
      <div aria-live="polite" class="explain-result">
        {failure === undefined ? null : <p class="error-text">{failure}</p>}
        {answer === undefined ? null : (
          <>
            <p>
              <Badge tone={answer.status === 'route' ? 'ok' : answer.status === 'no_rules' ? 'neutral' : 'bad'}>
                {answer.status}
              </Badge>{' '}
              {decision?.rule === undefined ? (
                answer.status === 'no_rules' ? (
                  'no route rule: any instance'
                ) : (
                  'no rule matches (the proxy answers 412)'
                )
              ) : (
                <>
                  rule <code class="matched-rule">{decision.rule.id}</code>
                </>
              )}
              {decision?.backend === undefined ? null : (
                <>
                  {' '}
                  → backend <code class="chosen-backend">{decision.backend.tags.join(',') || 'any instance'}</code>
                </>
              )}{' '}
              at revision {answer.revision}
            </p>
            <pre class="explain-text">{answer.text}</pre>
          </>
        )}
      </div>
    </section>
  );
}
