import type { SpiffeId } from '../identity/spiffe-id.js';

/** The caller of a request, as the receiving proxy knows it. */
export interface AuthzPeer {
  /** The connection's remote address (`127.0.0.2`, `::ffff:10.1.2.3`). */
  readonly ip?: string | undefined;
  /** The workload identity from the caller's verified certificate; absent for plaintext or unverified callers. */
  readonly identity?: SpiffeId | undefined;
  /** Tags of the calling instance, known only for authenticated callers (from its registration). */
  readonly tags?: readonly string[] | undefined;
}

/** What an authorization decision reads of a request. */
export interface AuthzRequest {
  /** The called service. */
  readonly destination: string;
  readonly method?: string | undefined;
  /** The request target; a query string is ignored. */
  readonly path?: string | undefined;
  /** Request headers by lower-case name (node's `IncomingHttpHeaders` shape). */
  readonly headers?: Readonly<Record<string, string | readonly string[] | undefined>> | undefined;
  /**
   * Reads one header by lower-case name, for callers whose headers are not a record (a proxy's
   * flat header list): used instead of `headers` when given.
   */
  readonly header?: ((name: string) => string | undefined) | undefined;
  readonly peer?: AuthzPeer | undefined;
}

/** The verdict on one request. */
export interface AuthzDecision {
  readonly allowed: boolean;
  /** The policy that decided, or undefined when the namespace's default did. */
  readonly policy: string | undefined;
  /** Why, in words, for logs and the 403 body: `denied by policy "block-ips": peer 10.1.2.3 in 10.0.0.0/8`. */
  readonly reason: string;
}

/** How one policy fared against a request (explain output). */
export interface AuthzPolicyTrace {
  readonly id: string;
  readonly action: 'allow' | 'deny';
  readonly matched: boolean;
  /** For a policy that did not match: the first condition that failed, in words. */
  readonly failed?: string | undefined;
}

/** A decision with every policy considered, in evaluation order (denies first). */
export interface AuthzExplanation {
  readonly decision: AuthzDecision;
  readonly policies: readonly AuthzPolicyTrace[];
}
