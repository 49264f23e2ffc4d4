import { InvalidArgumentError, type ValidationIssue } from '../errors/index.js';

/**
 * A workload identity in SPIFFE form, `spiffe://<trustDomain>/ns/<namespace>/svc/<service>`
 * (Istio's and Consul Connect's layout): the trust domain names the mesh (its certificate
 * authority), the namespace is the Weft tenant, the service the registry's service name. It is
 * carried as the URI SAN of a workload's certificate.
 */
export interface SpiffeId {
  readonly trustDomain: string;
  readonly namespace: string;
  readonly service: string;
}

/** The default trust domain of a Weft mesh. */
export const DEFAULT_TRUST_DOMAIN = 'weft.local';

/** SPIFFE's trust domain grammar: lower-case letters, digits, `.`, `-`, `_`; at most 255 characters. */
const TRUST_DOMAIN = /^[a-z0-9._-]{1,255}$/;
/** A SPIFFE path segment: letters, digits, `.`, `-`, `_` (and not `.` or `..`). */
const SEGMENT = /^[A-Za-z0-9._-]+$/;
/** SPIFFE IDs are at most 2048 bytes (the spec's limit, which URI SANs share). */
const MAX_ID_LENGTH = 2048;

function checkTrustDomain(value: unknown, path: string, issues: ValidationIssue[]): void {
  if (typeof value !== 'string' || !TRUST_DOMAIN.test(value))
    issues.push({
      path,
      message: `must be a SPIFFE trust domain: lower-case letters, digits, '.', '-', '_' (got ${JSON.stringify(value)})`,
    });
}

function checkSegment(value: unknown, path: string, issues: ValidationIssue[]): void {
  if (typeof value !== 'string' || !SEGMENT.test(value) || value === '.' || value === '..')
    issues.push({
      path,
      message: `must be a SPIFFE path segment: letters, digits, '.', '-', '_' (got ${JSON.stringify(value)})`,
    });
}

/**
 * Checks the parts of a {@link SpiffeId}; every problem is named by its field (`trustDomain`,
 * `namespace`, `service`).
 *
 * @throws InvalidArgumentError naming each bad field.
 */
export function checkSpiffeId(id: SpiffeId): SpiffeId {
  const issues: ValidationIssue[] = [];
  checkTrustDomain(id?.trustDomain, 'trustDomain', issues);
  checkSegment(id?.namespace, 'namespace', issues);
  checkSegment(id?.service, 'service', issues);
  if (issues.length > 0) throw new InvalidArgumentError('workload identity', issues);
  return { trustDomain: id.trustDomain, namespace: id.namespace, service: id.service };
}

/**
 * Checks a trust domain (a setting, an option).
 *
 * @throws InvalidArgumentError naming `path`.
 */
export function validateTrustDomain(value: string, path = 'trustDomain'): string {
  const issues: ValidationIssue[] = [];
  checkTrustDomain(value, path, issues);
  if (issues.length > 0) throw new InvalidArgumentError('trust domain', issues);
  return value;
}

/**
 * The URI of a workload identity: `spiffe://weft.local/ns/default/svc/reviews`.
 *
 * @throws InvalidArgumentError naming each bad field.
 */
export function formatSpiffeId(id: SpiffeId): string {
  const { trustDomain, namespace, service } = checkSpiffeId(id);
  return `spiffe://${trustDomain}/ns/${namespace}/svc/${service}`;
}

/**
 * Parses a workload identity URI (`spiffe://<trust-domain>/ns/<namespace>/svc/<service>`).
 * Other SPIFFE IDs (another path layout), query strings, fragments, ports and user info are
 * refused. `path` names the field in the error (`uri`, `csr.subjectAltName`).
 *
 * @throws InvalidArgumentError naming `path` and, when the layout is right, the bad part.
 */
export function parseSpiffeId(text: string, path = 'uri'): SpiffeId {
  const fail = (message: string): never => {
    throw new InvalidArgumentError('workload identity', [{ path, message }]);
  };
  if (typeof text !== 'string') return fail('must be a string');
  if (text.length > MAX_ID_LENGTH) fail(`must be at most ${MAX_ID_LENGTH} characters`);
  const m = /^spiffe:\/\/([^/?#]*)\/ns\/([^/?#]*)\/svc\/([^/?#]*)$/.exec(text);
  if (m === null)
    return fail(
      `must be spiffe://<trust-domain>/ns/<namespace>/svc/<service> (got ${JSON.stringify(text.slice(0, 200))})`,
    );
  const issues: ValidationIssue[] = [];
  checkTrustDomain(m[1], `${path}.trustDomain`, issues);
  checkSegment(m[2], `${path}.namespace`, issues);
  checkSegment(m[3], `${path}.service`, issues);
  if (issues.length > 0) throw new InvalidArgumentError('workload identity', issues);
  return { trustDomain: m[1] as string, namespace: m[2] as string, service: m[3] as string };
}

/** True when `a` and `b` name the same workload identity. */
export function sameSpiffeId(a: SpiffeId, b: SpiffeId): boolean {
  return a.trustDomain === b.trustDomain && a.namespace === b.namespace && a.service === b.service;
}
