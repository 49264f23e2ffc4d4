/** The identity settings of a controller (and the control plane), as plain data: durations in ms. */
export interface IdentitySettings {
  /** Serve `/v1/identity/*` (issue workload certificates, publish the trust bundle). Default true. */
  readonly enabled?: boolean | undefined;
  /** The trust domain of every identity (`spiffe://<trustDomain>/ns/…`). Default `weft.local`. */
  readonly trustDomain?: string | undefined;
  /** Lifetime of a workload certificate, ms. Default 24 h. Workloads renew at half of it. */
  readonly certTtlMs?: number | undefined;
  /**
   * Sign only for credentials bound to services (a JWT with the services claim), each for its
   * own services: namespace-wide credentials (`none`, `trusted`, `admin`, a JWT without the
   * claim) get 403. Default false: namespace-wide credentials get any service's identity in
   * their namespace.
   */
  readonly requireServiceBinding?: boolean | undefined;
  /**
   * The CA. Default: a root generated on first use and kept in memory (gone with the process;
   * workloads then get a new bundle). Either the operator's CA files (`certFile` and `keyFile`),
   * or `file`, where the generated root is kept and reused.
   */
  readonly ca?:
    | {
        /** PEM: the CA certificate, then optionally its issuers up to the root (an intermediate CA). */
        readonly certFile?: string | undefined;
        /** PEM: the CA's unencrypted private key (EC P-256/P-384 or RSA). */
        readonly keyFile?: string | undefined;
        /** Where the generated root is kept (certificate and key, PEM, mode 0600): created once, reused after. */
        readonly file?: string | undefined;
        /** Lifetime of a generated root, ms. Default 365 days. */
        readonly ttlMs?: number | undefined;
      }
    | undefined;
}

/** Defaults of {@link IdentitySettings}. */
export const IDENTITY_DEFAULTS = {
  trustDomain: 'weft.local',
  certTtlMs: 24 * 3_600_000,
  caTtlMs: 365 * 24 * 3_600_000,
} as const;
