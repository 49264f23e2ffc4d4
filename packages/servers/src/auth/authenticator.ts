import { timingSafeEqual } from 'node:crypto';
import { jwtVerify } from 'jose';

/**
 * How a request's namespace (tenant) is decided — Amalgam8's registry auth modes. Several modes
 * chain: the first that recognises the request's credentials decides; none → 401.
 */
export type AuthMode =
  /** Single tenant: every request is in `namespace` (default `default`), no credentials needed. */
  | { type: 'none'; namespace?: string }
  /** `Authorization: Bearer <token>`: the token is the namespace (a trusted network in front). */
  | { type: 'trusted' }
  /** `Authorization: Bearer <JWT>` signed HS256 with `secret`; the namespace is its `claim` (default `namespace`). */
  | { type: 'jwt'; secret: string; claim?: string }
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

/** Resolves the namespace of a request. */
export interface Authenticator {
  /** The namespace the request acts in; rejects with {@link AuthError}. */
  namespace(credentials: Credentials): Promise<string>;
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

/** One mode's verdict: a namespace, or undefined when the request's credentials are not this mode's. */
type Resolver = (credentials: Credentials) => Promise<string | undefined>;

function resolver(mode: AuthMode): Resolver {
  switch (mode.type) {
    case 'none': {
      const ns = checkedNamespace(mode.namespace ?? 'default', 'auth.none.namespace');
      return async () => ns;
    }
    case 'trusted':
      return async (c) => {
        const token = bearer(c.authorization);
        return token === undefined ? undefined : checkedNamespace(token, 'the bearer token');
      };
    case 'jwt': {
      if (mode.secret.length < 32) throw new TypeError('auth jwt: `secret` must be at least 32 characters (HS256)');
      const key = new TextEncoder().encode(mode.secret);
      const claim = mode.claim ?? 'namespace';
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
        return checkedNamespace(payload[claim], `the token's \`${claim}\` claim`);
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
        return checkedNamespace(ns, `the ${mode.header ?? 'A8-Namespace'} header`);
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
  return {
    async namespace(credentials) {
      for (const r of chain) {
        const ns = await r(credentials);
        if (ns !== undefined) return ns;
      }
      throw new AuthError(
        credentials.authorization === undefined ? 'credentials required' : 'the credentials given are not accepted',
      );
    },
  };
}
