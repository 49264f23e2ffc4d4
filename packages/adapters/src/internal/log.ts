/**
 * Logging for adapters. Bad data from a server (a Consul service without an address, an
 * EndpointSlice without ports) is skipped with a *coded* warning that names the object; a watch
 * that fails and restarts says so. Nothing an adapter does to recover is silent.
 */

/** Codes of the warnings the adapters in this package log. Stable: match on them, not on messages. */
export type AdapterWarningCode =
  /** A Consul service instance has no address (and no node address to fall back to, or the fallback is off). */
  | 'WEFT_WARN_CONSUL_EMPTY_ADDRESS'
  /** A Consul service instance cannot become a Weft instance (bad port, unreadable Weft metadata). */
  | 'WEFT_WARN_CONSUL_BAD_SERVICE'
  /** An EndpointSlice lists no ports. */
  | 'WEFT_WARN_K8S_SLICE_WITHOUT_PORTS'
  /** An EndpointSlice has ports, but not the one the `port` option asks for. */
  | 'WEFT_WARN_K8S_PORT_NOT_FOUND'
  /** A Kubernetes `Rule` object is not a valid rule: it is not applied (its last valid version stays, if it had one) and its status says why. */
  | 'WEFT_WARN_K8S_INVALID_RULE'
  /** A `Rule` object's status could not be written (no RBAC permission on `rules/status`…); the rules are followed regardless. */
  | 'WEFT_WARN_K8S_RULE_STATUS'
  /** A value under an etcd adapter's prefix is not a Weft instance (bad JSON, failed validation, key/value mismatch). */
  | 'WEFT_WARN_ETCD_BAD_VALUE'
  /** An etcd lease holding a registration was lost (expired, revoked, or unconfirmed for a whole TTL); the instance is registered again. */
  | 'WEFT_WARN_ETCD_LEASE_LOST'
  /** Registering again an instance whose etcd lease was lost failed (etcd unreachable…); it is out of discovery, and retried with backoff. Once per failure streak. */
  | 'WEFT_WARN_ETCD_REREGISTER_FAILED'
  /** A Weave Flux value (service spec, instance, session) is malformed; it is skipped. */
  | 'WEFT_WARN_WEAVE_BAD_VALUE'
  /** A watch listener threw or rejected; later deliveries go on. */
  | 'WEFT_WARN_LISTENER_ERROR'
  /** A watch lost its server (failed, ended early, stalled); it is being restarted with backoff. Once per failure streak, with the cause. */
  | 'WEFT_WARN_WATCH_RESTART'
  /** A watch resumed from a position the server no longer has (Kubernetes 410 Gone); the state is listed again. */
  | 'WEFT_WARN_WATCH_RELIST'
  /** A watch of a Weft server fell back to a simpler transport (SSE → long-poll → polling): the server or a proxy refused the better one. */
  | 'WEFT_WARN_WATCH_FALLBACK'
  /** An instance listed by a Weft (or Amalgam8) registry cannot become a Weft instance; it is skipped. */
  | 'WEFT_WARN_WEFT_BAD_INSTANCE'
  /** The controller served rules that do not compile; the rules in force are kept. */
  | 'WEFT_WARN_WEFT_BAD_RULES'
  /** The controller served authorization policies that do not validate (the ones in force are kept), or serves none at all (404: an Amalgam8 or older controller). */
  | 'WEFT_WARN_WEFT_BAD_AUTHORIZATION'
  /** The controller served an older rules revision than the one in force (its history started over); it is not applied. */
  | 'WEFT_WARN_WEFT_REVISION_BEHIND'
  /** A registration with a Weft registry failed or was lost (410 Gone); it is being registered again. */
  | 'WEFT_WARN_WEFT_REGISTRATION'
  /** A workload certificate could not be renewed; the current one stays in use until it expires, and renewal is retried. Once per failure streak. */
  | 'WEFT_WARN_IDENTITY_RENEWAL'
  /** A workload certificate expired before it could be renewed. */
  | 'WEFT_WARN_IDENTITY_EXPIRED';

/** One warning: a stable code, a readable message, and the server object it is about. */
export interface AdapterWarning {
  readonly code: AdapterWarningCode;
  readonly message: string;
  /** The adapter source's name (`consul`, `kubernetes:default`). */
  readonly source: string;
  /** The key or object the warning is about (`consul service web/web-1 on node n1`, `EndpointSlice default/web-abc`). */
  readonly object?: string;
  /** The underlying error, when there is one. */
  readonly cause?: unknown;
}

/** Where adapters report what they skip or recover from. */
export interface AdapterLogger {
  warn(warning: AdapterWarning): void;
  /**
   * Routine events, with `details.event` naming them: `listed`, `watching`, `watch-failed` (a
   * failure after the streak's warning), `watch-recovered` (`failures`, `downMs`),
   * `reregistered`. Optional.
   */
  debug?(message: string, details?: Record<string, unknown>): void;
}

/**
 * The default logger: every warning becomes a Node process warning (`process.emitWarning`) of
 * type `WeftAdapterWarning` with the warning's code, so it is printed once per occurrence on
 * stderr and can be observed with `process.on('warning')`.
 */
export const processWarningLogger: AdapterLogger = {
  warn(w) {
    process.emitWarning(w.message, { type: 'WeftAdapterWarning', code: w.code });
  },
};

/**
 * Logs each (code, object) warning once while the condition lasts: a bad object in a watched
 * set would otherwise be reported again on every change of that set. {@link WarnOnce.retain}
 * forgets the objects that are gone, so a problem that comes back is reported again.
 */
export class WarnOnce {
  private seen = new Set<string>();
  private current = new Set<string>();

  constructor(private readonly logger: AdapterLogger) {}

  warn(warning: AdapterWarning): void {
    const key = `${warning.code}\u0000${warning.object ?? warning.message}`;
    this.current.add(key);
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.logger.warn(warning);
  }

  /** Call after each full pass over the data: warnings not repeated since the last call are forgotten. */
  retain(): void {
    this.seen = this.current;
    this.current = new Set();
  }
}

/** Text of an error for messages. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}

/** `err` as an Error (observers take Errors). */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
