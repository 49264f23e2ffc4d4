import { type AuthorizationDocument, InvalidArgumentError, type ValidationIssue } from '@weft/core';
import { prepareRules } from './prepare.js';
import { decodeStoredAuthorization } from './stored-authorization.js';
import type { NamespaceRules, StoredRule } from './types.js';

/**
 * How the etcd rules store lays out its keys: ONE key per namespace, holding the whole namespace
 * as JSON, so that every write is a single-key compare-and-put — atomic, ordered, and free of
 * etcd's per-transaction operation limit (128 by default), whatever the number of rules a write
 * touches:
 *
 * ```
 * <prefix>/rules/<namespace>  →  {"format":"weft-rules","version":1,"namespace":"<ns>","revision":N,"rules":[…],"authorization"?:{…}}
 * ```
 *
 * The namespace's authorization policies live in the same value, so they share its revision and
 * its compare-and-put.
 *
 * `revision` is the namespace's own revision (one more per changing write), kept in the value so
 * it grows by exactly one whatever else the cluster stores. The namespace is URI-component
 * encoded (a `/` in it cannot change the layout). A namespace's rules must fit in one etcd
 * request (`--max-request-bytes`, 1.5 MiB by default: several thousand rules).
 */
const FORMAT = 'weft-rules';
const VERSION = 1;

/** Keys of every namespace start with this. */
export function rulesKeyPrefix(prefix: string): string {
  return `${prefix}/rules/`;
}

/** The key of a namespace's rules. */
export function rulesKey(prefix: string, namespace: string): string {
  return `${rulesKeyPrefix(prefix)}${encodeURIComponent(namespace)}`;
}

/** The namespace of a rules key, or undefined for a key of another layout (a registry namespace named "rules"). */
export function namespaceOfKey(prefix: string, key: string): string | undefined {
  const start = rulesKeyPrefix(prefix);
  if (!key.startsWith(start)) return undefined;
  const rest = key.slice(start.length);
  if (rest === '' || rest.includes('/')) return undefined;
  try {
    return decodeURIComponent(rest);
  } catch {
    return undefined;
  }
}

/** The stored value of a namespace's rules. */
export function encodeNamespace(
  namespace: string,
  revision: number,
  rules: readonly StoredRule[],
  authorization?: AuthorizationDocument | undefined,
): string {
  return JSON.stringify({ format: FORMAT, version: VERSION, namespace, revision, rules, authorization });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reads a stored value, rules validated (`prepareRules`) and frozen.
 *
 * @throws InvalidArgumentError naming the key and the problem — a damaged value is never taken
 *   for an empty rule set.
 */
export function decodeNamespace(key: string, namespace: string, value: Buffer | string): NamespaceRules {
  const what = `etcd key ${key}`;
  let json: unknown;
  try {
    json = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch (cause) {
    throw new InvalidArgumentError(what, [{ path: '', message: `is not valid JSON (${(cause as Error).message})` }], {
      cause,
    });
  }
  if (!isRecord(json) || json.format !== FORMAT || json.version !== VERSION)
    throw new InvalidArgumentError(what, [
      { path: 'format', message: `must be "${FORMAT}" version ${VERSION} (is this key written by Weft?)` },
    ]);
  if (json.namespace !== namespace)
    throw new InvalidArgumentError(what, [
      { path: 'namespace', message: `must be ${JSON.stringify(namespace)}, the namespace of its key` },
    ]);
  const { revision, rules } = json;
  if (typeof revision !== 'number' || !Number.isSafeInteger(revision) || revision < 0)
    throw new InvalidArgumentError(what, [{ path: 'revision', message: 'must be a non-negative integer' }]);
  if (!Array.isArray(rules)) throw new InvalidArgumentError(what, [{ path: 'rules', message: 'must be an array' }]);
  const issues: ValidationIssue[] = [];
  const authorization = decodeStoredAuthorization(json.authorization, 'authorization', issues);
  if (issues.length > 0) throw new InvalidArgumentError(what, issues);
  try {
    return {
      namespace,
      revision,
      rules: prepareRules(rules),
      ...(authorization === undefined ? {} : { authorization }),
    };
  } catch (err) {
    if (!(err instanceof InvalidArgumentError)) throw err;
    throw new InvalidArgumentError(
      what,
      err.issues.map((i) => ({ path: i.path, message: i.message })),
      { cause: err },
    );
  }
}
