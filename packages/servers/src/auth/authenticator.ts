import { timingSafeEqual } from 'node:crypto';
import { jwtVerify } from 'jose';

/**
 * How a request's namespace (tenant) is decided — Amalgam8's registry auth modes. Several modes
 * chain: the first that recognises the request's credentials decides; none → 401. Only `jwt` can
 * also bind the credentials to services (see {@link Principal}); the others are namespace-wide.
 */
export type AuthMode =
  /** Single tenant: every request is in `namespace` (default `default`), no credentials needed. */
  | { type: 'none'; namespace?: string }
  /** `Authorization: Bearer <token>`: the token is the namespace (a trusted network in front). */
  | { type: 'trusted' }
  /**
   * `Authorization: Bearer <JWT>` signed HS256 with `secret`; the namespace is its `claim` (default
   * `namespace`). When the token carries `servicesClaim` (default `services`: a service name, or an
   * array of them), it is bound to those services; without it, namespace-wide.
   */
  | { type: 'jwt'; secret: string; claim?: string; servicesClaim?: string }
  /** `Authorization: Bearer <token>` equal to `token`; the namespace comes from `header` (default `A8-Namespace`). */
  | { type: 'admin'; token: string; header?: string };

/** A request's credentials as the authenticator reads them. */
export interface Credentials {
  /** The `Authorization` header, if any. */
  authorization: string | undefined;
  /** Reads another request header (lower-case name). */
  header(name: string): string | undefined;
}

/** Why a request was refused: no credentials any mode accepts (401). */
export class AuthError extends Error {
  readonly code = 'WEFT_ERR_UNAUTHORIZED';
  readonly status = 401;
  constructor(message: string) {
    super(message);
    this.name = 'AuthError';
  }
}

/** Namespace names: what the registry accepts as a tenant (letters, digits, `.`, `_`, `-`; ≤ 64). */
const NAMESPACE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Service names a binding may hold: a SPIFFE path segment (core's `checkSpiffeId`), the identity's last part. */
const SERVICE = /^[A-Za-z0-9._-]{1,253}$/;

/** Who a request acts as: its namespace and, when its credentials are bound to services, which. */
export interface Principal {
  /** The namespace (tenant) the request acts in. */
  readonly namespace: string;
  /**
   * The services the credentials may act as — the identities (workload certificates) they may
   * obtain; never empty. `undefined`: not bound, any service of the namespace.
   */
  readonly services?: readonly string[] | undefined;
}

/** Resolves the namespace (and the service binding) of a request. */
export interface Authenticator {
  /** The namespace the request acts in; rejects with {@link AuthError}. */
  namespace(credentials: Credentials): Promise<string>;
  /**
   * The namespace and the services the request may act as; rejects with {@link AuthError}.
   * Optional, so authenticators written before it still fit: without it a request is
   * namespace-wide ({@link principalOf}).
   */
  principal?(credentials: Credentials): Promise<Principal>;
}

/** The principal of a request through any {@link Authenticator}: namespace-wide when it cannot bind services. */
export async function principalOf(authenticator: Authenticator, credentials: Credentials): Promise<Principal> {
  if (authenticator.principal !== undefined) return authenticator.principal(credentials);
  return { namespace: await authenticator.namespace(credentials) };
}

function bearer(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return m === null ? undefined : m[1];
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function checkedNamespace(value: unknown, from: string): string {
  if (typeof value !== 'string' || !NAMESPACE.test(value))
    throw new AuthError(`${from} does not name a valid namespace (letters, digits, '.', '_', '-'; at most 64)`);
  return value;
}

/**
 * The services of a token's binding claim: absent → not bound; a name or a non-empty array of
 * names → those; anything else is refused, naming the claim (a binding that cannot be read must
 * not fall back to namespace-wide).
 */
function checkedServices(value: unknown, claim: string): readonly string[] | undefined {
  if (value === undefined) return undefined;
  const from = `the token's \`${claim}\` claim`;
  const names = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(names) || names.length === 0)
    throw new AuthError(
      `${from} must be a service name or a non-empty array of them (leave it out for a namespace-wide token); got ${shownValue(value)}`,
    );
  for (const [i, name] of names.entries())
    if (typeof name !== 'string' || !SERVICE.test(name) || name === '.' || name === '..')
      throw new AuthError(
        `${from}${typeof value === 'string' ? '' : `[${i}]`} is not a service name (letters, digits, '.', '_', '-'); got ${shownValue(name)}`,
      );
  return [...new Set(names as string[])];
}

/** A claim's value for an error message: short, and never the whole token. */
function shownValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 64));
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

/** One mode's verdict: a principal, or undefined when the request's credentials are not this mode's. */
type Resolver = (credentials: Credentials) => Promise<Principal | undefined>;

function resolver(mode: AuthMode): Resolver {
  switch (mode.type) {
    case 'none': {
      const principal = { namespace: checkedNamespace(mode.namespace ?? 'default', 'auth.none.namespace') };
      return async () => principal;
    }
    case 'trusted':
      return async (c) => {
        const token = bearer(c.authorization);
        return token === undefined ? undefined : { namespace: checkedNamespace(token, 'the bearer token') };
      };
    case 'jwt': {
      if (mode.secret.length < 32) throw new TypeError('auth jwt: `secret` must be at least 32 characters (HS256)');
      const key = new TextEncoder().encode(mode.secret);
      const claim = mode.claim ?? 'namespace';
      const servicesClaim = mode.servicesClaim ?? 'services';
      if (servicesClaim === claim)
        throw new TypeError(`auth jwt: the services claim and the namespace claim are both \`${claim}\``);
      return async (c) => {
        const token = bearer(c.authorization);
        // Not a JWT (three dot-separated parts): maybe another mode's token.
        if (token === undefined || token.split('.').length !== 3) return undefined;
        let payload: Record<string, unknown>;
        try {
          ({ payload } = await jwtVerify(token, key, { algorithms: ['HS256'] }));
        } catch (err) {
          throw new AuthError(`invalid token: ${(err as Error).message}`);
        }
        const namespace = checkedNamespace(payload[claim], `the token's \`${claim}\` claim`);
        const services = checkedServices(payload[servicesClaim], servicesClaim);
        return services === undefined ? { namespace } : { namespace, services };
      };
    }
    case 'admin': {
      const header = (mode.header ?? 'A8-Namespace').toLowerCase();
      return async (c) => {
        const token = bearer(c.authorization);
        if (token === undefined || !sameSecret(token, mode.token)) return undefined;
        const ns = c.header(header);
        if (ns === undefined)
          throw new AuthError(`the admin token needs a namespace in the ${mode.header ?? 'A8-Namespace'} header`);
        return { namespace: checkedNamespace(ns, `the ${mode.header ?? 'A8-Namespace'} header`) };
      };
    }
  }
}

/**
 * An authenticator from a chain of modes (default: `none`, the embedded single-tenant setup).
 * `none` in a chain is the fallback for requests without credentials: put it last.
 */
export function createAuthenticator(modes: readonly AuthMode[] = [{ type: 'none' }]): Authenticator {
  if (modes.length === 0) throw new TypeError('auth: at least one mode is needed');
  const chain = modes.map(resolver);
  const principal = async (credentials: Credentials): Promise<Principal> => {
    for (const r of chain) {
      const p = await r(credentials);
      if (p !== undefined) return p;
    }
    throw new AuthError(
      credentials.authorization === undefined ? 'credentials required' : 'the credentials given are not accepted',
    );
  };
  return { principal, namespace: async (credentials) => (await principal(credentials)).namespace };
}
