import { InvalidArgumentError, type ValidationIssue } from '@weft/core';
import { prepareRules } from './prepare.js';
import { decodeStoredAuthorization } from './stored-authorization.js';
import type { NamespaceRules } from './types.js';

/** Marks a file as a Weft rules store, so a wrong path fails clearly instead of loading junk. */
const FORMAT = 'weft-rules-store';
const VERSION = 1;

/**
 * The file store's contents:
 * `{"format":"weft-rules-store","version":1,"savedAt":<ms>,"namespaces":{"<ns>":{"revision":N,"rules":[…],"authorization"?:{…}}}}`.
 * Namespaces without rules are kept while their revision is above 0, so revisions never go back.
 */
export function encodeRulesFile(namespaces: Iterable<NamespaceRules>, savedAt: number): string {
  const out: Record<string, Omit<NamespaceRules, 'namespace'>> = {};
  for (const ns of namespaces)
    if (ns.revision > 0)
      out[ns.namespace] = { revision: ns.revision, rules: ns.rules, authorization: ns.authorization };
  return JSON.stringify({ format: FORMAT, version: VERSION, savedAt, namespaces: out });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parses and validates a rules file, rules included (`parseRules`, ids present and unique).
 *
 * @throws InvalidArgumentError naming the file and every problem with its path
 *   (`namespaces.default.rules[2].destination: is required`) — a damaged file is never taken
 *   for an empty rule set.
 */
export function decodeRulesFile(text: string, file: string): NamespaceRules[] {
  const what = `rules store file ${file}`;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new InvalidArgumentError(what, [{ path: '', message: `is not valid JSON (${(cause as Error).message})` }], {
      cause,
    });
  }
  if (!isRecord(json) || json.format !== FORMAT)
    throw new InvalidArgumentError(what, [
      { path: 'format', message: `must be "${FORMAT}" (is this a rules store file?)` },
    ]);
  if (json.version !== VERSION)
    throw new InvalidArgumentError(what, [
      { path: 'version', message: `must be ${VERSION} (got ${JSON.stringify(json.version)})` },
    ]);
  if (!isRecord(json.namespaces))
    throw new InvalidArgumentError(what, [{ path: 'namespaces', message: 'must be an object' }]);
  const issues: ValidationIssue[] = [];
  const out: NamespaceRules[] = [];
  for (const [namespace, entry] of Object.entries(json.namespaces)) {
    const at = `namespaces.${namespace}`;
    if (!isRecord(entry)) {
      issues.push({ path: at, message: 'must be an object' });
      continue;
    }
    const { revision, rules } = entry;
    if (typeof revision !== 'number' || !Number.isSafeInteger(revision) || revision < 0)
      issues.push({ path: `${at}.revision`, message: 'must be a non-negative integer' });
    if (!Array.isArray(rules)) {
      issues.push({ path: `${at}.rules`, message: 'must be an array' });
      continue;
    }
    const authorization = decodeStoredAuthorization(entry.authorization, `${at}.authorization`, issues);
    try {
      out.push({
        namespace,
        revision: revision as number,
        rules: prepareRules(rules),
        ...(authorization === undefined ? {} : { authorization }),
      });
    } catch (err) {
      if (!(err instanceof InvalidArgumentError)) throw err;
      issues.push(...err.issues.map((i) => ({ path: `${at}.${i.path}`, message: i.message })));
    }
  }
  if (issues.length > 0) throw new InvalidArgumentError(what, issues);
  return out;
}
