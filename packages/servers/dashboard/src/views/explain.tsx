import type { ExplainAnswer, ExplainRequest } from '../api/types.js';
import { Badge } from '../components/status.js';
import { type ExplainFields, explainRequest } from '../logic/explain-form.js';
import { ExplainField, useExplainForm } from './explain-form.js';

const EMPTY: ExplainFields = { destination: '', source: '', sourceTags: '', method: 'GET', path: '/', headers: '' };

/** Explain: describe a request and see which rule the controller's rules pick for it, and which backend. */
export function ExplainPanel({ services }: { services: readonly string[] }) {
  const { fieldState, answer, failure, submit } = useExplainForm<ExplainFields, ExplainRequest, ExplainAnswer>({
    empty: EMPTY,
    build: explainRequest,
    endpoint: '/v1/rules/explain',
  });
  const field = (name: keyof ExplainFields, label: string, hint?: string, multiline = false) => (
    <ExplainField
      id={`explain-${name}`}
      label={label}
      hint={hint}
      list={name === 'destination' || name === 'source' ? 'explain-services' : undefined}
      multiline={multiline}
      {...fieldState(name)}
    />
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
