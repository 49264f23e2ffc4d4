import type { Endpoint, Namespace } from './endpoints.js';
import { ConflictError, EXIT, NotFoundError, OpsError } from './errors.js';

/** An answer of the control plane: its status, its JSON body, and the revision it was at. */
export interface ApiAnswer {
  readonly status: number;
  readonly body: unknown;
  /** `x-weft-index`: the namespace's revision when the answer was made, for `If-Match`. */
  readonly revision: number | undefined;
}

export interface RequestOptions {
  readonly query?: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly body?: unknown;
  /** Compare-and-set: apply only if the rules are still at this revision (else 412, exit 4). */
  readonly ifMatch?: number | undefined;
  /** Statuses that are answers, not failures (a 404 the command handles itself). */
  readonly accept?: readonly number[];
}

/** How long a request may take before the command gives up (a server that hangs, a black-holed port). */
const TIMEOUT_MS = 15_000;

/** What `weft` calls each server in messages, and the setting that points at it. */
const HINT = {
  controller: 'set --controller-url or WEFT_CONTROLLER_URL (A8_CONTROLLER_URL)',
  registry: 'set --registry-url or WEFT_REGISTRY_URL (A8_REGISTRY_URL)',
} as const;
const TOKEN_HINT = {
  controller: 'set WEFT_CONTROLLER_TOKEN (A8_CONTROLLER_TOKEN) or --controller-token',
  registry: 'set WEFT_REGISTRY_TOKEN (A8_REGISTRY_TOKEN) or --registry-token',
} as const;

/**
 * Socket errors that mean the request never reached the server: a write can be sent to the next
 * replica without risk of applying it twice. (A timeout or a reset may come after the server got it.)
 */
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** The error text of a Weft (or Amalgam8) error body: `error`/`Error`, and every issue with its path. */
function describeError(body: unknown): string {
  if (typeof body !== 'object' || body === null) return typeof body === 'string' ? body.trim() : '';
  const b = body as { error?: unknown; Error?: unknown; message?: unknown; issues?: unknown };
  const head = [b.error, b.Error, b.message].find((v): v is string => typeof v === 'string') ?? '';
  const issues = Array.isArray(b.issues)
    ? b.issues
        .filter((i): i is { path?: unknown; message?: unknown } => typeof i === 'object' && i !== null)
        .map((i) => `\n  ${typeof i.path === 'string' && i.path !== '' ? `${i.path}: ` : ''}${String(i.message)}`)
    : [];
  // Weft's message already lists the issues inline; print them one a line instead when there are any.
  return issues.length > 0 ? `${head.split(':')[0] ?? head}:${issues.join('')}` : head;
}

/** A client of one server (the controller or the registry). */
export class ApiClient {
  constructor(
    readonly server: 'controller' | 'registry',
    private readonly endpoint: Endpoint,
    private readonly debug: ((line: string) => void) | undefined,
    private readonly namespace?: Namespace,
  ) {}

  get url(): string {
    return this.endpoint.url;
  }

  async get(path: string, options: RequestOptions = {}): Promise<ApiAnswer> {
    return this.request('GET', path, options);
  }

  /**
   * Sends one request. Fails with an {@link OpsError} that says what to do: the server cannot be
   * reached (exit 1), refused the credentials (1), found the input invalid (2), lacks what was
   * named (3), or the state changed meanwhile (4).
   */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<ApiAnswer> {
    // The URL may list the control plane's replicas, comma-separated: the next one is tried when
    // one cannot be reached (a read always; a write only if it surely never got there).
    const bases = this.endpoint.url
      .split(',')
      .map((u) => u.trim().replace(/\/+$/, ''))
      .filter((u) => u !== '');
    for (let i = 0; ; i++) {
      try {
        return await this.requestTo(bases[i] ?? this.endpoint.url, method, path, options);
      } catch (err) {
        if (!(err instanceof Unreachable)) throw err;
        const next = bases[i + 1];
        if (next === undefined || (method !== 'GET' && !err.notSent)) throw err.error;
        this.debug?.(`${err.error.message}; trying ${next}`);
      }
    }
  }

  private async requestTo(base: string, method: string, path: string, options: RequestOptions): Promise<ApiAnswer> {
    let url: URL;
    try {
      url = new URL(`${base}${path}`);
    } catch {
      throw new OpsError(
        `the ${this.server} URL ${JSON.stringify(base)} is not a URL (from ${this.endpoint.urlFrom}); ${HINT[this.server]}`,
        EXIT.usage,
      );
    }
    for (const [name, value] of Object.entries(options.query ?? {}))
      for (const v of typeof value === 'string' ? [value] : (value ?? [])) url.searchParams.append(name, v);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.endpoint.token !== undefined) headers.authorization = `Bearer ${this.endpoint.token}`;
    if (this.namespace !== undefined) headers[this.namespace.header.toLowerCase()] = this.namespace.name;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.ifMatch !== undefined) headers['if-match'] = `"${options.ifMatch}"`;
    this.debug?.(`${method} ${url.href}${options.body === undefined ? '' : ` ${JSON.stringify(options.body)}`}`);

    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
      const why =
        err instanceof Error && err.name === 'TimeoutError'
          ? `no answer within ${TIMEOUT_MS / 1000} s`
          : typeof cause?.code === 'string'
            ? cause.code
            : typeof cause?.message === 'string'
              ? cause.message
              : err instanceof Error
                ? err.message
                : String(err);
      throw new Unreachable(
        new OpsError(
          `cannot reach the ${this.server} at ${url.origin} (${why}): is \`weft control-plane\` running? ${HINT[this.server]}`,
          EXIT.runtime,
        ),
        typeof cause?.code === 'string' && NOT_SENT.has(cause.code),
      );
    }
    const raw = await response.text();
    let body: unknown = raw;
    try {
      body = raw === '' ? undefined : JSON.parse(raw);
    } catch {
      // Not JSON: a proxy's error page, kept as text for the message.
    }
    const index = Number(response.headers.get('x-weft-index'));
    this.debug?.(`→ ${response.status}${raw === '' ? '' : ` ${raw.length > 500 ? `${raw.slice(0, 500)}…` : raw}`}`);
    const answer: ApiAnswer = {
      status: response.status,
      body,
      revision: response.headers.has('x-weft-index') && Number.isSafeInteger(index) ? index : undefined,
    };
    if (response.ok || options.accept?.includes(response.status)) return answer;
    throw this.failure(method, url, response.status, body);
  }

  private failure(method: string, url: URL, status: number, body: unknown): OpsError {
    const said = describeError(body);
    const what = `${method} ${url.pathname}: ${status}${said === '' ? '' : ` ${said}`}`;
    switch (status) {
      case 400:
      case 413:
        return new OpsError(`the ${this.server} refused the request: ${what}`, EXIT.usage);
      case 401:
      case 403:
        return new OpsError(
          `the ${this.server} at ${url.origin} refused the credentials (${status}): ${TOKEN_HINT[this.server]}`,
          EXIT.runtime,
        );
      case 404:
      case 410:
        return new NotFoundError(`not found: ${what}`);
      case 409:
        return new ConflictError(`conflict: ${what}`);
      case 412:
        return new ConflictError(
          `the rules changed while this command was reading them (${what}); run it again to act on the new state`,
        );
      default:
        return new OpsError(`the ${this.server} at ${url.origin} failed: ${what}`, EXIT.runtime);
    }
  }
}

/** A request that got no answer: the error to show, and whether it surely never reached the server. */
class Unreachable extends Error {
  constructor(
    readonly error: OpsError,
    readonly notSent: boolean,
  ) {
    super(error.message);
  }
}
