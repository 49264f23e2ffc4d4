import type { AuthzExplainAnswer, AuthzExplainRequest } from '../api/types.js';
import { Badge } from '../components/status.js';
import { type AuthzExplainFields, authzExplainRequest, fieldOfIssue } from '../logic/authorization.js';
import { ExplainField, useExplainForm } from './explain-form.js';

const EMPTY: AuthzExplainFields = { destination: '', identity: '', ip: '', tags: '', method: 'GET', path: '/' };

/**
 * Explain (authorization): describe a call — who makes it, from where, to what — and see whether
 * the namespace's policies let it through and which policy decided, as the controller judges it
 * (`POST /v1/authorization/explain`), with every policy considered and why it did or did not match.
 */
export function AuthzExplainPanel({ services }: { services: readonly string[] }) {
  const { fieldState, answer, failure, submit } = useExplainForm<
    AuthzExplainFields,
    AuthzExplainRequest,
    AuthzExplainAnswer
  >({
    empty: EMPTY,
    build: authzExplainRequest,
    endpoint: '/v1/authorization/explain',
    fieldOf: fieldOfIssue,
  });
  const field = (name: keyof AuthzExplainFields, label: string, hint?: string) => (
    <ExplainField
      id={`authz-${name}`}
      label={label}
      hint={hint}
      list={name === 'destination' ? 'authz-services' : undefined}
      {...fieldState(name)}
    />
  );

  const decision = answer?.decision;
  return (
    <section class="panel explain" aria-labelledby="authz-explain-title">
      <h3 id="authz-explain-title">Explain a call</h3>
      <form onSubmit={(e) => void submit(e)} class="explain-form">
        <datalist id="authz-services">
          {services.map((s) => (
            <option key={s} value={s} />
          ))}
        </datalist>
        {field('destination', 'Destination service')}
        {field('identity', 'Source identity', 'SPIFFE ID, e.g. spiffe://weft.local/ns/default/svc/productpage')}
        {field('ip', 'Source IP', 'the peer address, e.g. 10.1.2.3')}
        {field('tags', 'Source tags', 'comma-separated, e.g. version=v1')}
        {field('method', 'Method')}
        {field('path', 'Path')}
        <div class="actions">
          <button type="submit" class="primary">
            Explain call
          </button>
        </div>
      </form>
      <div aria-live="polite" class="explain-result">
        {failure === undefined ? null : <p class="error-text">{failure}</p>}
        {decision === undefined || answer === undefined ? null : (
          <>
            <p class="authz-verdict">
              <Badge tone={decision.allowed ? 'ok' : 'bad'}>{decision.allowed ? 'allowed' : 'denied'}</Badge>
              {/* A policy's verdict says no more than its name; without one, the reason says what decided. */}
              {decision.policy === undefined ? (
                <>
                  : <span class="authz-reason">{decision.reason}</span>
                </>
              ) : (
                <>
                  {' '}
                  by policy <code class="deciding-policy">{decision.policy}</code>
                </>
              )}{' '}
              (revision {answer.revision})
            </p>
            {answer.policies.length === 0 ? null : (
              <ol class="authz-trace" aria-label="Policies considered, in the order they are judged">
                {answer.policies.map((p) => (
                  <li key={`${p.action}-${p.id}`} data-policy={p.id}>
                    <code>{p.id}</code> ({p.action}): {p.matched ? 'matched' : `no match — ${p.failed ?? ''}`}
                  </li>
                ))}
              </ol>
            )}
          </>
        )}
      </div>
    </section>
  );
}
