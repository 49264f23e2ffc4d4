import { useEffect, useRef, useState } from 'preact/hooks';
import { onUnauthorized } from '../api/client.js';
import { session } from '../api/session.js';

/**
 * The token and namespace the dashboard sends. The dialog opens by itself when the control plane
 * answers 401; the token stays in this tab's sessionStorage only.
 */
export function Credentials() {
  const dialog = useRef<HTMLDialogElement>(null);
  const [token, setToken] = useState(session.token());
  const [namespace, setNamespace] = useState(session.namespace());
  const [asked, setAsked] = useState(false);
  useEffect(
    () =>
      onUnauthorized(() => {
        setAsked(true);
        if (dialog.current !== null && !dialog.current.open) dialog.current.showModal();
      }),
    [],
  );
  const openDialog = (): void => {
    setToken(session.token());
    setNamespace(session.namespace());
    dialog.current?.showModal();
  };
  return (
    <>
      <button type="button" class="token-button" onClick={openDialog}>
        {session.token() === '' ? 'Token' : 'Token ✓'}
        {session.namespace() === '' ? '' : ` · ${session.namespace()}`}
      </button>
      <dialog ref={dialog} aria-labelledby="credentials-title">
        <form
          method="dialog"
          onSubmit={() => {
            session.setToken(token);
            session.setNamespace(namespace);
            setAsked(false);
          }}
        >
          <h2 id="credentials-title">Credentials</h2>
          {asked ? (
            <p class="error-text" role="alert">
              The control plane asks for a token (it answered 401).
            </p>
          ) : null}
          <div class="field">
            <label for="token-input">API token</label>
            <input
              id="token-input"
              type="password"
              autocomplete="off"
              value={token}
              onInput={(e) => setToken(e.currentTarget.value)}
            />
            <small class="hint">Sent as “Authorization: Bearer …”; kept in this tab only (sessionStorage).</small>
          </div>
          <div class="field">
            <label for="namespace-input">Namespace</label>
            <input id="namespace-input" value={namespace} onInput={(e) => setNamespace(e.currentTarget.value)} />
            <small class="hint">
              Sent as “A8-Namespace”: chooses the tenant with an admin token; other tokens decide it themselves.
            </small>
          </div>
          <div class="actions">
            <button type="submit" class="primary">
              Use these
            </button>
            <button type="button" onClick={() => dialog.current?.close()}>
              Cancel
            </button>
          </div>
        </form>
      </dialog>
    </>
  );
}
