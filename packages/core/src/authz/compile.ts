import { InvalidArgumentError } from '../errors/specific.js';
import { formatSpiffeId } from '../identity/spiffe-id.js';
import { hasAllTags } from '../model/tags.js';
import { ruleIssues } from '../rules/parse.js';
import { ValueMatcher } from '../rules/value-matcher.js';
import { CidrSet } from './cidr.js';
import {
  type AuthorizationDocument,
  AuthorizationDocumentSchema,
  type AuthorizationPolicy,
  type AuthzOperation,
  type AuthzSource,
} from './policy-schema.js';
import type { AuthzDecision, AuthzExplanation, AuthzPolicyTrace, AuthzRequest } from './request.js';

/** A failed condition in words, or undefined when the condition holds. */
type Check = (request: AuthzRequest) => string | undefined;

function sourceCheck(source: AuthzSource): Check {
  const checks: Check[] = [];
  if (source.authenticated !== undefined) {
    const want = source.authenticated;
    checks.push((r) =>
      (r.peer?.identity !== undefined) === want
        ? undefined
        : want
          ? 'caller is not authenticated'
          : 'caller is authenticated',
    );
  }
  if (source.services !== undefined) {
    const services = source.services;
    checks.push((r) => {
      const id = r.peer?.identity;
      if (id === undefined) return `caller is not authenticated (needs one of services ${services.join(', ')})`;
      return services.includes(id.service)
        ? undefined
        : `caller ${formatSpiffeId(id)} is not one of services ${services.join(', ')}`;
    });
  }
  if (source.namespaces !== undefined) {
    const namespaces = source.namespaces;
    checks.push((r) => {
      const id = r.peer?.identity;
      if (id === undefined) return `caller is not authenticated (needs one of namespaces ${namespaces.join(', ')})`;
      return namespaces.includes(id.namespace)
        ? undefined
        : `caller ${formatSpiffeId(id)} is not in namespaces ${namespaces.join(', ')}`;
    });
  }
  if (source.tags !== undefined) {
    const tags = source.tags;
    checks.push((r) =>
      r.peer?.identity !== undefined && hasAllTags(r.peer.tags ?? [], tags)
        ? undefined
        : `caller does not carry tags ${tags.join(', ')}`,
    );
  }
  if (source.ipBlocks !== undefined) {
    const blocks = source.ipBlocks;
    const set = new CidrSet(blocks);
    checks.push((r) => {
      const ip = r.peer?.ip;
      return ip !== undefined && set.has(ip) ? undefined : `peer ${ip ?? '(unknown)'} is not in ${blocks.join(', ')}`;
    });
  }
  if (source.notIpBlocks !== undefined) {
    const blocks = source.notIpBlocks;
    const set = new CidrSet(blocks);
    // An unknown peer address cannot be shown to lie outside the blocks: fail closed.
    checks.push((r) => {
      const ip = r.peer?.ip;
      return ip !== undefined && !set.has(ip) ? undefined : `peer ${ip ?? '(unknown)'} is in ${blocks.join(', ')}`;
    });
  }
  return all(checks);
}

function pathOf(target: string | undefined): string | undefined {
  if (target === undefined) return undefined;
  const q = target.indexOf('?');
  return q === -1 ? target : target.slice(0, q);
}

function headerValues(request: AuthzRequest, name: string): readonly (string | undefined)[] {
  if (request.header !== undefined) return [request.header(name)];
  const v = request.headers?.[name];
  return v === undefined ? [undefined] : typeof v === 'string' ? [v] : v.length === 0 ? [undefined] : v;
}

function operationCheck(operation: AuthzOperation): Check {
  const checks: Check[] = [];
  if (operation.methods !== undefined) {
    const methods = operation.methods.map((m) => m.toUpperCase());
    checks.push((r) =>
      r.method !== undefined && methods.includes(r.method.toUpperCase())
        ? undefined
        : `method ${r.method ?? '(none)'} is not one of ${methods.join(', ')}`,
    );
  }
  if (operation.paths !== undefined) {
    const matchers = operation.paths.map((p) => new ValueMatcher(p));
    checks.push((r) => {
      const path = pathOf(r.path);
      return matchers.some((m) => m.test(path))
        ? undefined
        : `path ${path ?? '(none)'} ${matchers.length === 1 ? `does not match: ${matchers[0]?.description}` : 'matches none of the paths'}`;
    });
  }
  if (operation.headers !== undefined) {
    for (const [name, spec] of Object.entries(operation.headers)) {
      const lower = name.toLowerCase();
      const matcher = new ValueMatcher(spec);
      checks.push((r) =>
        headerValues(r, lower).some((v) => matcher.test(v))
          ? undefined
          : `header ${lower} fails: ${matcher.description}`,
      );
    }
  }
  return all(checks);
}

function all(checks: readonly Check[]): Check {
  return (r) => {
    for (const c of checks) {
      const failed = c(r);
      if (failed !== undefined) return failed;
    }
    return undefined;
  };
}

/** Any of the alternatives (an absent list matches everything); reports the first alternative's failure. */
function anyOf(alternatives: readonly Check[] | undefined): Check {
  if (alternatives === undefined) return () => undefined;
  if (alternatives.length === 1) return alternatives[0] as Check;
  return (r) => {
    let first: string | undefined;
    for (const c of alternatives) {
      const failed = c(r);
      if (failed === undefined) return undefined;
      first ??= failed;
    }
    return `${first} (and every other \`from\`/\`to\` entry failed too)`;
  };
}

interface CompiledPolicy {
  readonly id: string;
  readonly action: 'allow' | 'deny';
  readonly destination: string;
  readonly check: Check;
}

function compilePolicy(p: AuthorizationPolicy): CompiledPolicy {
  const from = anyOf(p.from?.map(sourceCheck));
  const to = anyOf(p.to?.map(operationCheck));
  return { id: p.id, action: p.action, destination: p.destination, check: all([from, to]) };
}

/**
 * A namespace's compiled authorization policies. Build one per policy revision and swap it in
 * whole, so a request is judged by one revision or the next, never a mix of both.
 *
 * Semantics (Istio's): a matching `deny` policy denies; otherwise, when `allow` policies name the
 * destination (or `*`), one of them must match; otherwise the namespace's `defaultAction` decides.
 */
export class Authorizer {
  readonly defaultAction: 'allow' | 'deny';
  readonly policyCount: number;
  private readonly byDestination = new Map<string, { deny: CompiledPolicy[]; allow: CompiledPolicy[] }>();
  private readonly anyDestination: { deny: CompiledPolicy[]; allow: CompiledPolicy[] } = { deny: [], allow: [] };

  constructor(document: AuthorizationDocument) {
    this.defaultAction = document.defaultAction ?? 'allow';
    this.policyCount = document.policies.length;
    for (const p of document.policies) {
      const compiled = compilePolicy(p);
      let bucket = this.anyDestination;
      if (p.destination !== '*') {
        bucket = this.byDestination.get(p.destination) ?? { deny: [], allow: [] };
        this.byDestination.set(p.destination, bucket);
      }
      bucket[p.action].push(compiled);
    }
  }

  /** The verdict on `request`. */
  decide(request: AuthzRequest): AuthzDecision {
    return this.evaluate(request, undefined);
  }

  /** The verdict with every policy considered and why each did or did not match. */
  explain(request: AuthzRequest): AuthzExplanation {
    const traces: AuthzPolicyTrace[] = [];
    const decision = this.evaluate(request, traces);
    return { decision, policies: traces };
  }

  private evaluate(request: AuthzRequest, traces: AuthzPolicyTrace[] | undefined): AuthzDecision {
    const own = this.byDestination.get(request.destination);
    for (const list of [own?.deny, this.anyDestination.deny]) {
      if (list === undefined) continue;
      for (const p of list) {
        const failed = p.check(request);
        traces?.push({ id: p.id, action: 'deny', matched: failed === undefined, failed });
        if (failed === undefined && traces === undefined)
          return { allowed: false, policy: p.id, reason: `denied by policy "${p.id}"` };
      }
    }
    const deniedBy = traces?.find((t) => t.action === 'deny' && t.matched);
    let verdict: AuthzDecision | undefined =
      deniedBy === undefined
        ? undefined
        : { allowed: false, policy: deniedBy.id, reason: `denied by policy "${deniedBy.id}"` };
    let allows = 0;
    let firstMiss: string | undefined;
    for (const list of [own?.allow, this.anyDestination.allow]) {
      if (list === undefined) continue;
      for (const p of list) {
        allows++;
        const failed = p.check(request);
        traces?.push({ id: p.id, action: 'allow', matched: failed === undefined, failed });
        if (failed !== undefined) firstMiss ??= `"${p.id}": ${failed}`;
        if (failed === undefined && verdict === undefined) {
          verdict = { allowed: true, policy: p.id, reason: `allowed by policy "${p.id}"` };
          if (traces === undefined) return verdict;
        }
      }
    }
    if (verdict !== undefined) return verdict;
    if (allows > 0)
      return {
        allowed: false,
        policy: undefined,
        // The first policy's miss says what was wanted, which is what the caller needs to hear.
        reason: `no allow policy for ${request.destination} matched; ${firstMiss}${allows > 1 ? ` (and ${allows - 1} more)` : ''}`,
      };
    return {
      allowed: this.defaultAction === 'allow',
      policy: undefined,
      reason: `the namespace's default action (${this.defaultAction}); no policy applies to ${request.destination}`,
    };
  }
}

/**
 * Validates an authorization document (`{defaultAction?, policies: [...]}`, or a bare array of
 * policies) and compiles it.
 *
 * @throws InvalidArgumentError naming every bad field, e.g. `policies[1].from[0].ipBlocks[0]`.
 */
export function compileAuthorization(input: unknown): Authorizer {
  return new Authorizer(parseAuthorization(input));
}

/**
 * Validates an authorization document (`{defaultAction?, policies: [...]}`, or a bare array of
 * policies).
 *
 * @throws InvalidArgumentError naming every bad field.
 */
export function parseAuthorization(input: unknown): AuthorizationDocument {
  const doc = Array.isArray(input) ? { policies: input } : input;
  const result = AuthorizationDocumentSchema.safeParse(doc, { reportInput: true });
  if (!result.success) throw new InvalidArgumentError('authorization policies', ruleIssues(result.error.issues));
  return result.data;
}
