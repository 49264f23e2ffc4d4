/**
 * The catalogue of every error code Weft raises. Each code maps to the HTTP status the reference
 * servers answer with, so a library error and a wire error always agree.
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
  /** The rate limiter has no token for this call. */
  WEFT_ERR_RATE_LIMITED: { status: 429, title: 'Rate limited' },
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
  /** An example needs a toolchain (a compiler, a runtime) that is not installed. */
  WEFT_ERR_MISSING_TOOLCHAIN: { status: 500, title: 'Missing toolchain' },
} as const satisfies Record<string, { status: number; title: string }>;

/** Every Weft error code. */
export type ErrorCode = keyof typeof ErrorCodes;
