import { DEFAULT_NAMESPACE, InvalidArgumentError, NamespaceSchema, type ValidationIssue } from '@weft/core';

/** How to reach a Weft (or Amalgam8) registry or controller; shared by every client in `@weft/adapters/weft`. */
export interface ControlPlaneConnectionOptions {
  /**
   * The server's base URL, `http(s)://host:port`, optionally with a path prefix
   * (`https://cp.example/weft`) — or several, the replicas of one control plane (stateless
   * servers sharing one store, so they serve the same data at the same revisions). The client
   * uses the first, and moves to the next when the one in use fails (no connection, a 5xx, a
   * stalled stream), trying them in order and backing off only after a whole round failed.
   * List the preferred (nearest) replica first.
   */
  url: string | readonly string[];
  /**
   * Sent as `Authorization: Bearer <token>`: the namespace itself (the server's `trusted` mode), a
   * JWT with a namespace claim, or the admin token (then give `namespace` too). A function is
   * called before every request, so a rotated JWT is picked up without a restart.
   */
  token?: string | (() => string | Promise<string>);
  /**
   * The namespace (tenant). Sent in the `namespaceHeader` header, which the server reads with an
   * admin token and ignores otherwise, and stamped on the instances a source reports. Default
   * `default`.
   */
  namespace?: string;
  /** Header that carries `namespace`. Default `A8-Namespace` (Amalgam8's). */
  namespaceHeader?: string;
  /** Extra headers sent with every request. */
  headers?: Readonly<Record<string, string>>;
  /** Deadline of an ordinary request (to its response headers, and between body chunks), ms. Default 10 000. */
  requestTimeoutMs?: number;
}

/** Validated connection settings. */
export interface ResolvedConnection {
  /** The replicas' base URLs, in the order given, without a trailing slash; at least one. */
  readonly bases: readonly URL[];
  readonly token: ControlPlaneConnectionOptions['token'];
  readonly namespace: string;
  /** Whether the namespace was given (and so is sent). */
  readonly sendNamespace: boolean;
  readonly namespaceHeader: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly requestTimeoutMs: number;
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Checks that `n` is a finite number of ms > 0. */
export function checkMs(issues: ValidationIssue[], path: string, n: unknown, min = 1): void {
  if (n !== undefined && (typeof n !== 'number' || !Number.isFinite(n) || n < min))
    issues.push({ path, message: `must be a number of milliseconds >= ${min} (got ${String(n)})` });
}

/** One base URL, validated; `path` names it in issues (`url`, or `url[1]` in a list). */
function resolveBase(url: unknown, path: string, issues: ValidationIssue[]): URL | undefined {
  if (typeof url !== 'string') {
    issues.push({ path, message: 'must be a URL string' });
    return undefined;
  }
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    issues.push({ path, message: `is not a URL (got ${JSON.stringify(url)})` });
    return undefined;
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:')
    issues.push({ path, message: `must be an http or https URL (got ${JSON.stringify(url)})` });
  if (base.username !== '' || base.password !== '')
    issues.push({ path, message: 'must not carry credentials: use `token`' });
  // A trailing slash would double up when paths are appended.
  return new URL(base.href.replace(/\/+$/, ''));
}

/** `url` (one URL, or a list of replicas) as base URLs; a placeholder when it is missing or wrong. */
function resolveBases(url: unknown, issues: ValidationIssue[]): readonly URL[] {
  const placeholder = [new URL('http://invalid.invalid')];
  if (url === undefined) {
    issues.push({ path: 'url', message: 'is required: the server base URL (or a list of its replicas)' });
    return placeholder;
  }
  if (!Array.isArray(url)) {
    const base = resolveBase(url, 'url', issues);
    return base === undefined ? placeholder : [base];
  }
  if (url.length === 0) {
    issues.push({ path: 'url', message: 'must list at least one base URL' });
    return placeholder;
  }
  const bases: URL[] = [];
  url.forEach((u: unknown, i) => {
    const base = resolveBase(u, `url[${i}]`, issues);
    if (base === undefined) return;
    if (bases.some((b) => b.href === base.href))
      issues.push({ path: `url[${i}]`, message: `lists ${JSON.stringify(u)} twice` });
    else bases.push(base);
  });
  return bases.length === 0 ? placeholder : bases;
}

/** Validates {@link ControlPlaneConnectionOptions}, adding every problem to `issues`. */
export function resolveConnection(
  options: ControlPlaneConnectionOptions,
  issues: ValidationIssue[],
): ResolvedConnection {
  const bases = resolveBases(options?.url, issues);
  const token = options?.token;
  if (token !== undefined && typeof token !== 'string' && typeof token !== 'function')
    issues.push({ path: 'token', message: 'must be a string or a function returning one' });
  if (typeof token === 'string' && (token === '' || /\s/.test(token)))
    issues.push({ path: 'token', message: 'must be a non-empty string without spaces' });
  if (
    options?.namespace !== undefined &&
    (!NamespaceSchema.safeParse(options.namespace).success || !/^[\x21-\x7e]+$/.test(options.namespace))
  )
    issues.push({ path: 'namespace', message: `is not a valid namespace (got ${JSON.stringify(options.namespace)})` });
  const namespaceHeader = options?.namespaceHeader ?? 'A8-Namespace';
  if (typeof namespaceHeader !== 'string' || !HEADER_NAME.test(namespaceHeader))
    issues.push({ path: 'namespaceHeader', message: 'must be an HTTP header name' });
  const headers = options?.headers ?? {};
  if (typeof headers !== 'object' || headers === null)
    issues.push({ path: 'headers', message: 'must be an object of header names to values' });
  else
    for (const [name, value] of Object.entries(headers))
      if (!HEADER_NAME.test(name) || typeof value !== 'string')
        issues.push({ path: `headers.${name}`, message: 'must be a header name with a string value' });
  checkMs(issues, 'requestTimeoutMs', options?.requestTimeoutMs);
  return {
    bases,
    token,
    namespace: options?.namespace ?? DEFAULT_NAMESPACE,
    sendNamespace: options?.namespace !== undefined,
    namespaceHeader,
    headers: { ...headers },
    requestTimeoutMs: options?.requestTimeoutMs ?? 10_000,
  };
}

/** Throws the collected issues, if any. */
export function throwIfIssues(what: string, issues: readonly ValidationIssue[]): void {
  if (issues.length > 0) throw new InvalidArgumentError(what, issues);
}
