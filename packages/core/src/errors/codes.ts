/**
 * The catalogue of every error code Weft raises, in any package. Each code maps to the HTTP
 * status the reference servers answer with, so a library error and a wire error always agree.
 * `errors/catalogue.test.ts` scans every package's sources and fails on a code missing here or
 * from `errors/CODES.md`.
 */
export const ErrorCodes = {
  /** Input failed validation; `issues` names every field and problem. */
  WEFT_ERR_INVALID_ARGUMENT: { status: 400, title: 'Invalid argument' },
  /** Renew / deregister / setStatus of an instance that is unknown or has expired (Amalgam8's 410). */
  WEFT_ERR_UNKNOWN_INSTANCE: { status: 410, title: 'Unknown instance' },
  /** A service that nothing has registered. */
  WEFT_ERR_UNKNOWN_SERVICE: { status: 404, title: 'Unknown service' },
  /** A namespace (tenant) has reached its instance capacity. */
  WEFT_ERR_NAMESPACE_CAPACITY: { status: 403, title: 'Namespace capacity exceeded' },
  /**
   * Renew / deregister / setStatus of an instance a registry mirrors from another catalogue
   * (Consul, etcd, Kubernetes, a file): it changes there, never through the registry.
   */
  WEFT_ERR_MIRRORED_INSTANCE: { status: 403, title: 'Mirrored instance is read-only' },
  /** The object was closed and can no longer be used. */
  WEFT_ERR_CLOSED: { status: 503, title: 'Closed' },
  /** A service is known but has no eligible endpoint. */
  WEFT_ERR_NO_ENDPOINTS: { status: 503, title: 'No healthy endpoint' },
  /** A discovery source failed; the last-known-good state is kept. */
  WEFT_ERR_SOURCE_FAILED: { status: 502, title: 'Discovery source failed' },
  /** An operation was aborted through its AbortSignal. */
  WEFT_ERR_ABORTED: { status: 499, title: 'Aborted' },
  /** A timeout (per try or overall) expired; the error carries the elapsed time. */
  WEFT_ERR_TIMEOUT: { status: 504, title: 'Timeout' },
  /** Every allowed attempt failed; the error carries the attempt history. */
  WEFT_ERR_RETRIES_EXHAUSTED: { status: 504, title: 'Retries exhausted' },
  /** A retry was needed but the retry budget (a share of recent requests) was spent. */
  WEFT_ERR_RETRY_BUDGET_EXHAUSTED: { status: 503, title: 'Retry budget exhausted' },
  /** The circuit breaker is open (or half-open with every probe slot taken). */
  WEFT_ERR_CIRCUIT_OPEN: { status: 503, title: 'Circuit open' },
  /** The bulkhead's concurrency and queue are full, or the wait in its queue timed out. */
  WEFT_ERR_BULKHEAD_FULL: { status: 503, title: 'Bulkhead full' },
  /** A rate limit has no token for this call (a proxy answers 429 with `Retry-After`). */
  WEFT_ERR_RATE_LIMITED: { status: 429, title: 'Rate limited' },
  /** An authorization policy (or the namespace's default-deny) refused the call; the body says which and why. */
  WEFT_ERR_FORBIDDEN: { status: 403, title: 'Forbidden by policy' },
  /** The destination has route rules but none matches the request (Amalgam8's 412). */
  WEFT_ERR_NO_ROUTE: { status: 412, title: 'No matching route rule' },
  /**
   * An optional peer dependency that a feature in use needs is not installed: an adapter's client
   * library (such as `consul`), or `@opentelemetry/api` for @weft/proxy's tracing.
   */
  WEFT_ERR_MISSING_PEER_DEPENDENCY: { status: 500, title: 'Missing peer dependency' },
  /** A request body is larger than the configured limit (the sidecar's `maxBodyBytes`). */
  WEFT_ERR_PAYLOAD_TOO_LARGE: { status: 413, title: 'Payload too large' },
  /** The package was loaded on a Node.js version it does not support (the message names the one it needs). */
  WEFT_ERR_UNSUPPORTED_RUNTIME: { status: 500, title: 'Unsupported Node.js version' },

  // ── @weft/proxy ───────────────────────────────────────────────────────────────────────────
  /** The sidecar could not read its client's request (malformed HTTP/1.1): Http1Server's answer. */
  WEFT_ERR_BAD_REQUEST: { status: 400, title: 'Bad request' },
  /** The sidecar's code for an upstream failure that carries no code of its own (its error answer). */
  WEFT_ERR_UPSTREAM: { status: 502, title: 'Upstream failed mid-response' },
  /**
   * An upstream reached over mTLS did not prove the workload identity its endpoint announces
   * (`weft_mtls` metadata): its certificate does not chain to the trust bundle, or its SPIFFE ID
   * is another one, or names another service than the destination. A connect failure.
   */
  WEFT_ERR_PEER_IDENTITY: { status: 502, title: 'Upstream identity not verified' },

  // ── @weft/servers: the registry's and the controller's wire errors ───────────────────────
  /** No route for the path. */
  WEFT_ERR_NOT_FOUND: { status: 404, title: 'Not found' },
  /** A route for the path, not for the method. */
  WEFT_ERR_METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  /** A body that is not of a media type the route takes. */
  WEFT_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  /** A bug or a store failure, logged with its cause. */
  WEFT_ERR_INTERNAL: { status: 500, title: 'Internal error' },
  /** No or bad credentials. */
  WEFT_ERR_UNAUTHORIZED: { status: 401, title: 'Unauthorized' },
  /** The controller: a rule with that id exists already. */
  WEFT_ERR_RULE_CONFLICT: { status: 409, title: 'Rule conflict' },
  /** The controller: no rule with that id. */
  WEFT_ERR_UNKNOWN_RULE: { status: 404, title: 'Unknown rule' },
  /** The controller: the rules changed since the revision the write was based on. */
  WEFT_ERR_REVISION_MISMATCH: { status: 412, title: 'Revision mismatch' },
  /** The controller: the rules store refused or failed a write. */
  WEFT_ERR_STORE_WRITE: { status: 503, title: 'Rules store write failed' },
  /** The controller: the rules in the store do not compile. */
  WEFT_ERR_STORED_RULES_INVALID: { status: 500, title: 'Stored rules invalid' },
  /** The controller: the rules store cannot be reached. */
  WEFT_ERR_STORE_UNAVAILABLE: { status: 503, title: 'Rules store unavailable' },
  /** The controller: the rules store is read-only (rules come from Kubernetes resources). */
  WEFT_ERR_STORE_READ_ONLY: { status: 405, title: 'Rules store read-only' },
  /** The `weft` command line was used wrongly (unknown command or flag). */
  WEFT_ERR_USAGE: { status: 400, title: 'Usage' },
  /** A configuration file or setting is invalid; the message names the setting. */
  WEFT_ERR_CONFIG: { status: 400, title: 'Invalid configuration' },
  /** A `weft` operations command failed (bundle, install…). */
  WEFT_ERR_OPS: { status: 500, title: 'Operation failed' },
  /** A recipe run was interrupted (its signal aborted); its rules were removed first. */
  WEFT_ERR_RECIPE_INTERRUPTED: { status: 499, title: 'Recipe interrupted' },
  /**
   * The controller's CA: a certificate request for an identity the credentials do not allow (another
   * namespace, another service than the request names).
   */
  WEFT_ERR_IDENTITY_FORBIDDEN: { status: 403, title: 'Identity not allowed' },
  /** The controller's CA files are unusable (expired, not a CA, key mismatch, unreadable); names the setting. */
  WEFT_ERR_CA_INVALID: { status: 500, title: 'Invalid certificate authority' },
  /**
   * A write the credentials' service binding (a JWT's services claim) does not allow: the
   * registry's, of an instance of another service; the controller's, of the namespace's rules or
   * authorization policies (namespace-wide credentials write those).
   */
  WEFT_ERR_BINDING_FORBIDDEN: { status: 403, title: 'Outside the service binding' },

  // ── @weft/examples ────────────────────────────────────────────────────────────────────────
  /** An example needs a toolchain (a compiler, a runtime) that is not installed. */
  WEFT_ERR_MISSING_TOOLCHAIN: { status: 500, title: 'Missing toolchain' },
} as const satisfies Record<string, { status: number; title: string }>;

/** Every Weft error code. */
export type ErrorCode = keyof typeof ErrorCodes;

/**
 * The catalogue of every warning code Weft logs (a `code` on the log record or the warning
 * event): a condition the component survives on its own, that an operator may want to act on.
 */
export const WarningCodes = {
  /** A watch failed and is restarted with backoff; one warning per failure streak. */
  WEFT_WARN_WATCH_RESTART: { title: 'Watch restarted' },
  /** A watch lost its place (compacted revision, resource version too old) and lists afresh. */
  WEFT_WARN_WATCH_RELIST: { title: 'Watch relisted' },
  /** A watch fell back from its preferred transport (say, streaming to polling). */
  WEFT_WARN_WATCH_FALLBACK: { title: 'Watch fell back' },
  /** A registry watch listener threw; later deliveries go on. */
  WEFT_WARN_LISTENER_ERROR: { title: 'Listener threw' },
  /** Consul: a service entry without an address (skipped). */
  WEFT_WARN_CONSUL_EMPTY_ADDRESS: { title: 'Consul entry without address' },
  /** Consul: a service entry that does not map onto an instance (skipped). */
  WEFT_WARN_CONSUL_BAD_SERVICE: { title: 'Consul entry unreadable' },
  /** etcd: a value under the prefix that is not an instance (skipped). */
  WEFT_WARN_ETCD_BAD_VALUE: { title: 'etcd value unreadable' },
  /** etcd: the lease of registered instances was lost; they are registered again. */
  WEFT_WARN_ETCD_LEASE_LOST: { title: 'etcd lease lost' },
  /** etcd: registering an instance again after a lost lease failed. */
  WEFT_WARN_ETCD_REREGISTER_FAILED: { title: 'etcd re-registration failed' },
  /** Kubernetes: an EndpointSlice without ports (skipped). */
  WEFT_WARN_K8S_SLICE_WITHOUT_PORTS: { title: 'EndpointSlice without ports' },
  /** Kubernetes: the named port is not on the EndpointSlice (skipped). */
  WEFT_WARN_K8S_PORT_NOT_FOUND: { title: 'Port not found' },
  /** Kubernetes: a Rule resource that does not compile (its status says why; the rest apply). */
  WEFT_WARN_K8S_INVALID_RULE: { title: 'Invalid Rule resource' },
  /** Kubernetes: the status of a Rule resource could not be written. */
  WEFT_WARN_K8S_RULE_STATUS: { title: 'Rule status not written' },
  /** Weave: a value that is not an instance (skipped). */
  WEFT_WARN_WEAVE_BAD_VALUE: { title: 'Weave value unreadable' },
  /** Weft registry: a registration or heartbeat failed and is retried. */
  WEFT_WARN_WEFT_REGISTRATION: { title: 'Registration failed' },
  /** Weft registry: an instance record that does not parse (skipped). */
  WEFT_WARN_WEFT_BAD_INSTANCE: { title: 'Instance unreadable' },
  /** Weft controller: rules that do not compile (the last good ones are kept). */
  WEFT_WARN_WEFT_BAD_RULES: { title: 'Rules invalid' },
  /** Weft controller: authorization policies that do not validate (the last good ones are kept), or none served (404). */
  WEFT_WARN_WEFT_BAD_AUTHORIZATION: { title: 'Authorization invalid' },
  /** Weft controller: a revision behind the one already applied (ignored until it passes it). */
  WEFT_WARN_WEFT_REVISION_BEHIND: { title: 'Rules revision behind' },
  /** A workload's certificate could not be renewed; the current one is kept until it expires, and renewal retried. */
  WEFT_WARN_IDENTITY_RENEWAL: { title: 'Certificate renewal failed' },
  /** A workload's certificate expired before it could be renewed: it has no valid identity until renewal succeeds. */
  WEFT_WARN_IDENTITY_EXPIRED: { title: 'Certificate expired' },
} as const satisfies Record<string, { title: string }>;

/** Every Weft warning code. */
export type WarningCode = keyof typeof WarningCodes;
