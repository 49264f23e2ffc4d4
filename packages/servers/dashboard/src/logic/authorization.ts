import type { AuthorizationPolicy, AuthzOperation, AuthzSource } from '@weft/core';
import type { AuthorizationAnswer, AuthzExplainRequest, ErrorIssue } from '../api/types.js';

/** A policy as a row of the Authorization view: each `from` / `to` alternative in words. */
export interface PolicyRow {
  readonly id: string;
  readonly destination: string;
  readonly action: 'allow' | 'deny';
  /** One phrase per `from` entry (any of them); `['any caller']` when the policy has none. */
  readonly from: readonly string[];
  /** One phrase per `to` entry (any of them); `['any request']` when the policy has none. */
  readonly to: readonly string[];
}

/** A path or header condition in words: `/api/*` for a prefix, `= "/health"`, `~ /^\/v\d/`, `present`. */
function condition(match: Readonly<Record<string, unknown>>): string {
  if (typeof match.exact === 'string') return match.exact;
  if (typeof match.prefix === 'string') return `${match.prefix}*`;
  if (typeof match.regex === 'string') return `~ /${match.regex}/`;
  if (match.present === true) return 'present';
  if (match.absent === true) return 'absent';
  return JSON.stringify(match);
}

/** One `from` entry in words, its conditions (all of which must hold) joined by ` and `. */
export function describeSource(source: AuthzSource): string {
  const parts: string[] = [];
  if (source.services !== undefined) parts.push(`service ${source.services.join(' or ')}`);
  if (source.namespaces !== undefined) parts.push(`namespace ${source.namespaces.join(' or ')}`);
  if (source.tags !== undefined) parts.push(`tags ${source.tags.join(', ')}`);
  if (source.ipBlocks !== undefined) parts.push(`IP in ${source.ipBlocks.join(', ')}`);
  if (source.notIpBlocks !== undefined) parts.push(`IP not in ${source.notIpBlocks.join(', ')}`);
  if (source.authenticated !== undefined) parts.push(source.authenticated ? 'authenticated' : 'not authenticated');
  return parts.join(' and ');
}

/** One `to` entry in words: `GET, HEAD /api/*` and its header conditions. */
export function describeOperation(operation: AuthzOperation): string {
  const parts: string[] = [];
  if (operation.methods !== undefined) parts.push(operation.methods.join(', '));
  if (operation.paths !== undefined) parts.push(operation.paths.map(condition).join(' or '));
  for (const [name, match] of Object.entries(operation.headers ?? {}))
    parts.push(`header ${name.toLowerCase()} ${condition(match)}`);
  return parts.join(' ');
}

/** The view's rows, deny policies first: the order the proxies judge them in (a matching deny wins). */
export function policyRows(policies: readonly AuthorizationPolicy[]): PolicyRow[] {
  const rows = policies.map((p) => ({
    id: p.id,
    destination: p.destination === '*' ? '* (every service)' : p.destination,
    action: p.action,
    from: p.from?.map(describeSource) ?? ['any caller'],
    to: p.to?.map(describeOperation) ?? ['any request'],
  }));
  return [...rows.filter((r) => r.action === 'deny'), ...rows.filter((r) => r.action === 'allow')];
}

/**
 * What the namespace's policies mean as a whole, in one sentence: above all what happens to a
 * call no policy mentions — the empty state must not read as "nothing configured, nothing known".
 */
export function policySummary(answer: Pick<AuthorizationAnswer, 'defaultAction' | 'policies'>): string {
  const verdict = answer.defaultAction === 'allow' ? 'allowed' : 'denied';
  if (answer.policies.length === 0)
    return `No policy: every call is ${verdict} (the namespace's default action is ${answer.defaultAction}).`;
  const closed = [...new Set(answer.policies.filter((p) => p.action === 'allow').map((p) => p.destination))];
  const guarded =
    closed.length === 0
      ? ''
      : closed.includes('*')
        ? ' Every service accepts only the calls an allow policy allows.'
        : ` ${closed.join(', ')} ${closed.length === 1 ? 'accepts' : 'accept'} only the calls an allow policy allows.`;
  return `A matching deny policy refuses a call.${guarded} A call no policy applies to is ${verdict} (default action ${answer.defaultAction}).`;
}

/** The authorization explain form's fields, as typed. */
export interface AuthzExplainFields {
  readonly destination: string;
  /** The caller's SPIFFE ID, empty for a caller without a certificate. */
  readonly identity: string;
  readonly ip: string;
  /** Comma-separated: `version=v1, canary`. */
  readonly tags: string;
  readonly method: string;
  readonly path: string;
}

/** The form's problems, by field, or the body of `POST /v1/authorization/explain`. */
export function authzExplainRequest(
  fields: AuthzExplainFields,
): { request: AuthzExplainRequest } | { problems: Record<string, string> } {
  const problems: Record<string, string> = {};
  const destination = fields.destination.trim();
  if (destination === '') problems.destination = 'is required: the service called';
  const identity = fields.identity.trim();
  if (identity !== '' && !identity.startsWith('spiffe://'))
    problems.identity = 'must be a SPIFFE ID: spiffe://<trust domain>/ns/<namespace>/svc/<service>';
  const path = fields.path.trim();
  if (path !== '' && !path.startsWith('/')) problems.path = 'must start with /';
  if (Object.keys(problems).length > 0) return { problems };
  const ip = fields.ip.trim();
  const tags = fields.tags
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  const method = fields.method.trim().toUpperCase();
  const peer = {
    ...(ip === '' ? {} : { ip }),
    ...(identity === '' ? {} : { identity }),
    ...(tags.length === 0 ? {} : { tags }),
  };
  return {
    request: {
      destination,
      ...(method === '' ? {} : { method }),
      ...(path === '' ? {} : { path }),
      ...(Object.keys(peer).length === 0 ? {} : { peer }),
    },
  };
}

/** The form field a refused explain request's issue belongs to (`peer.identity.trustDomain` → `identity`). */
export function fieldOfIssue(issue: ErrorIssue): keyof AuthzExplainFields | undefined {
  const [head, next] = issue.path.split(/[.[]/);
  if (head === 'peer') return next === 'identity' || next === 'ip' || next === 'tags' ? next : undefined;
  return head === 'destination' || head === 'method' || head === 'path' ? head : undefined;
}
