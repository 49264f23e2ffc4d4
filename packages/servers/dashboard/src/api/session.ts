/**
 * The credentials the dashboard sends: the API's bearer token (asked for when the control plane
 * answers 401, kept in sessionStorage — gone with the tab, never in localStorage) and the
 * namespace (sent as `A8-Namespace`, which an admin token needs; other modes ignore it).
 */
const TOKEN_KEY = 'weft.dashboard.token';
const NAMESPACE_KEY = 'weft.dashboard.namespace';

type Listener = () => void;
const listeners = new Set<Listener>();

function read(key: string): string {
  try {
    return sessionStorage.getItem(key) ?? '';
  } catch {
    return '';
  }
}

function write(key: string, value: string): void {
  try {
    if (value === '') sessionStorage.removeItem(key);
    else sessionStorage.setItem(key, value);
  } catch {
    // Storage refused (a private window's quota): the value lives until the page reloads.
  }
  memory.set(key, value);
  for (const listener of listeners) listener();
}

const memory = new Map<string, string>();
const get = (key: string): string => memory.get(key) ?? read(key);

export const session = {
  token: (): string => get(TOKEN_KEY),
  namespace: (): string => get(NAMESPACE_KEY),
  setToken: (token: string): void => write(TOKEN_KEY, token.trim()),
  setNamespace: (namespace: string): void => write(NAMESPACE_KEY, namespace.trim()),
  /** The headers every request carries. */
  headers(): Record<string, string> {
    const headers: Record<string, string> = {};
    const token = get(TOKEN_KEY);
    const namespace = get(NAMESPACE_KEY);
    if (token !== '') headers.authorization = `Bearer ${token}`;
    if (namespace !== '') headers['a8-namespace'] = namespace;
    return headers;
  },
  /** Calls `listener` when the token or namespace changes; returns how to stop. */
  subscribe(listener: Listener): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};
