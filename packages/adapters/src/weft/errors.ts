/**
 * A request to a Weft (or Amalgam8) control-plane server failed: `status` is the HTTP status, or
 * 0 when no answer came (refused, reset, timed out). `code` is the server's error code
 * (`WEFT_ERR_UNKNOWN_INSTANCE`) when its JSON error body named one.
 */
export class ControlPlaneRequestError extends Error {
  readonly status: number;
  readonly method: string;
  /** The URL path (and query) of the request, without credentials. */
  readonly path: string;
  readonly code: string | undefined;

  constructor(
    method: string,
    path: string,
    status: number,
    detail: string,
    options: { code?: string; cause?: unknown } = {},
  ) {
    super(
      `${method} ${path} ${status === 0 ? 'failed' : `answered HTTP ${status}`}: ${detail}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'ControlPlaneRequestError';
    this.method = method;
    this.path = path;
    this.status = status;
    this.code = options.code;
  }
}

/** True for a {@link ControlPlaneRequestError} with one of `statuses`. */
export function hasStatus(err: unknown, ...statuses: number[]): err is ControlPlaneRequestError {
  return err instanceof ControlPlaneRequestError && statuses.includes(err.status);
}

/**
 * A watch transport the server (or a proxy in between) does not support: an SSE request answered
 * with an error or with plain JSON, a stream that stays silent, a long-poll answered at once or
 * without a revision. The follower tries the next simpler transport instead of backing off.
 */
export class TransportUnavailableError extends Error {
  /**
   * The refusal may be passing: a gateway's 5xx or 429 while the server restarts or sheds load.
   * The follower falls back only when such a refusal repeats.
   */
  readonly transient: boolean;

  constructor(
    readonly transport: string,
    reason: string,
    options: { transient?: boolean } = {},
  ) {
    super(reason);
    this.name = 'TransportUnavailableError';
    this.transient = options.transient ?? false;
  }
}
