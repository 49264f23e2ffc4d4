import { brandErrorClass, type ErrorCode, WeftError, type WeftErrorOptions } from '@weft/core';

/**
 * What happened to one attempt: an HTTP status (100–599), or one of core's {@link Outcome}
 * codes for attempts that got no response (`ConnectFailure`, `Reset`, `Timeout`, `Error`,
 * `Rejected` locally, e.g. by an open circuit breaker).
 */
export type AttemptOutcome = number;

/** Code of the "route rules exist but none matched" error (HTTP 412, Amalgam8's answer). */
export const NO_ROUTE_CODE: ErrorCode = 'WEFT_ERR_NO_ROUTE';

/** One attempt of a mesh call, as carried by a {@link MeshRequestError}. */
export interface MeshAttempt {
  /** 1-based attempt number. */
  readonly attempt: number;
  /** The endpoint tried (`host:port`), or `"fault"` when an injected fault answered. */
  readonly endpoint: string;
  /** The instance id, when an instance was picked. */
  readonly instanceId?: string;
  /** HTTP status or negative outcome code. */
  readonly outcome: AttemptOutcome;
  /** Core's word for the outcome (`outcomeWord`: `200`, `connect-failure`, `reset`, `timeout`, `error`, `rejected`), or `fault-abort <status>` / `fault-reset`. */
  readonly reason: string;
  /** Wall time of the attempt in milliseconds (to response headers or failure). */
  readonly durationMs: number;
  /** The error of the attempt, when it failed without a response. */
  readonly error?: Error;
  /** Whether this attempt was a transparent retry of a request that hit a socket the server had closed. */
  readonly transparent?: boolean;
}

/** Options of a {@link MeshRequestError}. */
export interface MeshRequestErrorOptions extends WeftErrorOptions {
  service?: string;
  requestId?: string;
  attempts?: readonly MeshAttempt[];
  /** Overrides the HTTP status a sidecar answers with (defaults to the code's status). */
  status?: number;
  /** When the caller may try again, ms (a rate limit's wait): the sidecar sends it as `Retry-After`. */
  retryAfterMs?: number;
}

/**
 * A mesh call failed. Every failure of a {@link MeshAgent} call (and every error answer of the
 * sidecar) is one of these — except an injected reset, an {@link InjectedResetError} — with a
 * stable `code`, the HTTP `status` a proxy answers with, the `service`, the `requestId` and the
 * full `attempts` history, instead of "fetch failed".
 */
export class MeshRequestError extends WeftError {
  static {
    brandErrorClass(MeshRequestError, 'MeshRequestError');
  }

  /** The destination service. */
  readonly service: string;
  /** The `x-request-id` of the call. */
  readonly requestId: string;
  /** Every attempt, oldest first (empty when the call failed before any attempt). */
  readonly attempts: readonly MeshAttempt[];
  /**
   * When the caller may try again, ms: set on `WEFT_ERR_RATE_LIMITED` (the time until the
   * bucket has a token), which the sidecar answers with `Retry-After` in whole seconds.
   */
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message: string, options: MeshRequestErrorOptions = {}) {
    const attempts = options.attempts ?? [];
    const tail = attempts.length > 0 ? `; attempts: ${describeAttempts(attempts)}` : '';
    super(code, `${message}${tail}`, options);
    this.name = 'MeshRequestError';
    this.service = options.service ?? '';
    this.requestId = options.requestId ?? '';
    this.attempts = Object.freeze([...attempts]);
    this.retryAfterMs = options.retryAfterMs;
    if (options.status !== undefined) (this as { status: number }).status = options.status;
  }

  override toJSON(): Record<string, unknown> {
    return {
      ...super.toJSON(),
      service: this.service,
      request_id: this.requestId,
      ...(this.retryAfterMs === undefined ? {} : { retry_after_ms: this.retryAfterMs }),
      attempts: this.attempts.map((a) => ({
        attempt: a.attempt,
        endpoint: a.endpoint,
        outcome: a.reason,
        duration_ms: Math.round(a.durationMs * 1000) / 1000,
        ...(a.error === undefined ? {} : { error: a.error.message }),
        ...(a.transparent ? { transparent: true } : {}),
      })),
    };
  }
}

/**
 * An authorization policy (or the namespace's default-deny) refused a call that entered through
 * a proxy's front end: `WEFT_ERR_FORBIDDEN`, 403. `policy` names the deciding policy (undefined
 * when the default decided); `reason` says why, and both go into the JSON body.
 */
export class ForbiddenError extends MeshRequestError {
  static {
    brandErrorClass(ForbiddenError, 'ForbiddenError');
  }

  readonly policy: string | undefined;
  readonly reason: string;

  constructor(
    message: string,
    decision: { readonly policy: string | undefined; readonly reason: string },
    options: MeshRequestErrorOptions = {},
  ) {
    super('WEFT_ERR_FORBIDDEN', message, { ...options, status: 403 });
    this.name = 'ForbiddenError';
    this.policy = decision.policy;
    this.reason = decision.reason;
  }

  override toJSON(): Record<string, unknown> {
    const { attempts: _none, ...rest } = super.toJSON();
    return { ...rest, ...(this.policy === undefined ? {} : { policy: this.policy }), reason: this.reason };
  }
}

/**
 * The connection reset an abort fault `-1` injected (Amalgam8's "reset connection"). Not a
 * {@link MeshRequestError}: nothing failed in the mesh, the fault is deliberate and stands for a
 * real reset, so it looks like one — `code` is `ECONNRESET`, as for a socket the peer reset —
 * and `injected` is `true` with a message that says so. It is never retried and never counts
 * against an endpoint. The sidecar resets its client's connection instead (TCP RST, no answer);
 * `fetch` rejects with its usual `TypeError('fetch failed')` whose `cause` is this error.
 */
export class InjectedResetError extends Error {
  static {
    brandErrorClass(InjectedResetError, 'InjectedResetError');
  }

  /** As a socket error of a connection the peer reset. */
  readonly code = 'ECONNRESET';
  /** Always true: the reset was injected by a fault rule. */
  readonly injected = true;
  /** The destination service. */
  readonly service: string;
  /** The `x-request-id` of the call. */
  readonly requestId: string;
  /** Every attempt, oldest first; the last is the injected reset (endpoint `fault`). */
  readonly attempts: readonly MeshAttempt[];

  constructor(what: string, options: { service: string; requestId: string; attempts: readonly MeshAttempt[] }) {
    super(`${what}: connection reset by an injected fault (abort -1; not retried)`);
    this.name = 'InjectedResetError';
    this.service = options.service;
    this.requestId = options.requestId;
    this.attempts = Object.freeze([...options.attempts]);
  }
}

/** True when `error` is an {@link InjectedResetError} (from this copy of @weft/proxy or any other). */
export function isInjectedReset(error: unknown): error is InjectedResetError {
  return error instanceof InjectedResetError;
}

/** True when `error` is a {@link MeshRequestError} (from this copy of @weft/proxy or any other). */
export function isMeshRequestError(error: unknown): error is MeshRequestError {
  return error instanceof MeshRequestError;
}

/**
 * The {@link MeshRequestError} behind `err`, wherever it sits in the `cause` chain; `undefined`
 * when there is none. `undici.request` rejects with the mesh error itself, but `fetch` (global
 * or undici's) wraps every failure in `TypeError: fetch failed` with the real error in `.cause`,
 * so code, service and attempt history are one level down there.
 *
 * An injected reset (abort fault `-1`) is not a mesh failure: find it with
 * {@link isInjectedReset} on `err.cause`.
 *
 * @example
 * ```ts
 * import { describeAttempts, meshErrorOf } from '@weft/proxy';
 *
 * try {
 *   await fetch('http://reviews/api/1');
 * } catch (err) {
 *   const mesh = meshErrorOf(err);
 *   if (mesh === undefined) throw err; // not the mesh: a bad URL, an aborted signal…
 *   console.error(mesh.code, mesh.service, describeAttempts(mesh.attempts));
 * }
 * ```
 */
export function meshErrorOf(err: unknown): MeshRequestError | undefined {
  const seen = new Set<unknown>();
  // Bounded and cycle-safe: a cause chain is user data and may loop.
  for (let e = err; e !== null && typeof e === 'object' && !seen.has(e) && seen.size < 16; e = (e as Error).cause) {
    if (isMeshRequestError(e)) return e;
    seen.add(e);
  }
  return undefined;
}

/** Human-readable one-line attempt history: `#1 10.0.0.1:80 reset in 3 ms, #2 10.0.0.2:80 503 in 5 ms`. */
export function describeAttempts(attempts: readonly MeshAttempt[]): string {
  return attempts
    .map(
      (a) =>
        `#${a.attempt} ${a.endpoint} ${a.reason}${a.error && a.outcome < 0 ? ` (${a.error.message})` : ''} in ${Math.round(a.durationMs)} ms`,
    )
    .join(', ');
}
