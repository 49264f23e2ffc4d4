import type { RecipeRule } from './compile.js';

/** What a run needs of the rules controller: add its rules, and remove them by the run's tag. */
export interface RecipeRulesApi {
  /** Adds the rules; resolves with the controller's revision after the change, when it says. */
  add(rules: readonly RecipeRule[]): Promise<{ ids: string[]; revision: number | undefined }>;
  /** Removes every rule carrying `tag`. */
  removeTagged(tag: string): Promise<void>;
  /** The rules carrying `tag` (to check that none is left). */
  listTagged(tag: string): Promise<unknown[]>;
}

/** How to reach the controller over HTTP (`/v1/rules`). */
export interface HttpRulesApiOptions {
  readonly url: string;
  readonly token?: string;
  /** The namespace, in the header the control plane's admin auth reads (default `A8-Namespace`). */
  readonly namespace?: string;
  readonly namespaceHeader?: string;
  readonly timeoutMs?: number;
}

/** A {@link RecipeRulesApi} over the controller's Amalgam8 API. */
export function httpRulesApi(options: HttpRulesApiOptions): RecipeRulesApi {
  const base = options.url.replace(/\/+$/, '');
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.namespace !== undefined) headers[options.namespaceHeader ?? 'A8-Namespace'] = options.namespace;
  const call = async (method: string, path: string, body?: unknown): Promise<{ body: unknown; revision?: number }> => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
    });
    const text = await res.text();
    if (!res.ok && !(method === 'DELETE' && res.status === 404))
      throw new Error(`${method} ${base}${path}: ${res.status} ${text.slice(0, 500)}`);
    const index = Number(res.headers.get('x-weft-index'));
    return {
      body: text === '' ? undefined : (JSON.parse(text) as unknown),
      ...(res.headers.has('x-weft-index') && Number.isSafeInteger(index) ? { revision: index } : {}),
    };
  };
  return {
    async add(rules) {
      const answer = await call('POST', '/v1/rules', { rules });
      const ids = (answer.body as { ids?: unknown } | undefined)?.ids;
      return { ids: Array.isArray(ids) ? ids.map(String) : [], revision: answer.revision };
    },
    async removeTagged(tag) {
      await call('DELETE', `/v1/rules?tag=${encodeURIComponent(tag)}`);
    },
    async listTagged(tag) {
      const answer = await call('GET', `/v1/rules?tag=${encodeURIComponent(tag)}`);
      const rules = (answer.body as { rules?: unknown } | undefined)?.rules;
      return Array.isArray(rules) ? rules : [];
    },
  };
}
