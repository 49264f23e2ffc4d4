import * as z from 'zod/mini';
import { section, setting } from './define.js';

export const AUTH_MODES = ['none', 'trusted', 'jwt', 'admin'] as const;

/** At least this long: HS256 with a shorter secret is brute-forceable (the authenticator agrees). */
export const JWT_SECRET_MIN = 32;
/** A guessable admin token is every namespace's key. */
export const ADMIN_TOKEN_MIN = 16;

const text = z.string().check(z.minLength(1, { error: 'must not be empty' }));

/** The authentication settings: a chain of modes and what each needs. */
export function authSection() {
  return section(
    {
      modes: setting(
        z
          .array(z.enum(AUTH_MODES, { error: `must be one of ${AUTH_MODES.join(', ')}` }))
          .check(z.minLength(1, { error: 'must list at least one mode' })),
        {
          kind: 'list',
          flag: 'auth',
          env: 'WEFT_AUTH',
          placeholder: '<mode,…>',
          description:
            'Authentication modes, tried in order (none: no credentials, one namespace; trusted: the bearer token is the namespace; jwt: HS256 token with a namespace claim, optionally bound to services; admin: token + namespace header)',
          default: ['none'],
        },
      ),
      namespace: setting(text, {
        kind: 'string',
        placeholder: '<name>',
        description: 'The namespace of every request in mode none',
        default: 'default',
      }),
      jwtSecret: setting(
        z.string().check(z.minLength(JWT_SECRET_MIN, { error: `must be at least ${JWT_SECRET_MIN} characters` })),
        {
          kind: 'string',
          flag: false,
          secret: true,
          description: `HS256 secret of mode jwt, at least ${JWT_SECRET_MIN} characters (no flag: command lines are visible to every user of the machine)`,
        },
      ),
      jwtSecretFile: setting(text, {
        kind: 'string',
        placeholder: '<file>',
        description: 'File holding the jwt secret (a trailing newline is ignored)',
      }),
      jwtClaim: setting(text, {
        kind: 'string',
        placeholder: '<claim>',
        description: 'The JWT claim that names the namespace',
        default: 'namespace',
      }),
      jwtServicesClaim: setting(text, {
        kind: 'string',
        placeholder: '<claim>',
        description:
          "The JWT claim that binds a token to services (a name or an array of names): the token gets only those services' workload certificates and writes only their instances (no rules or policies); a token without it is namespace-wide",
        default: 'services',
      }),
      adminToken: setting(
        z.string().check(z.minLength(ADMIN_TOKEN_MIN, { error: `must be at least ${ADMIN_TOKEN_MIN} characters` })),
        {
          kind: 'string',
          flag: false,
          secret: true,
          description: `Bearer token of mode admin, at least ${ADMIN_TOKEN_MIN} characters (no flag, as for the jwt secret)`,
        },
      ),
      adminTokenFile: setting(text, {
        kind: 'string',
        placeholder: '<file>',
        description: 'File holding the admin token (a trailing newline is ignored)',
      }),
      adminHeader: setting(text, {
        kind: 'string',
        placeholder: '<header>',
        description: 'The header an admin request names its namespace in',
        default: 'A8-Namespace',
      }),
    },
    'Authentication: which namespace (tenant) a request acts in',
  );
}

/** The validated auth settings, as far as the checks below need them. */
interface AuthConfig {
  modes: readonly (typeof AUTH_MODES)[number][];
  jwtClaim?: string | undefined;
  jwtServicesClaim?: string | undefined;
  jwtSecret?: string | undefined;
  jwtSecretFile?: string | undefined;
  adminToken?: string | undefined;
  adminTokenFile?: string | undefined;
}

/** The secret of a mode: given inline or as a file, exactly one of them when the mode is on. */
function checkSecret(
  auth: AuthConfig,
  mode: 'jwt' | 'admin',
  inline: 'jwtSecret' | 'adminToken',
  file: 'jwtSecretFile' | 'adminTokenFile',
  issue: (path: readonly string[], message: string) => void,
): void {
  if (!auth.modes.includes(mode)) return;
  if (auth[inline] !== undefined && auth[file] !== undefined)
    issue(['auth', file], `give auth.${inline} or auth.${file}, not both`);
  else if (auth[inline] === undefined && auth[file] === undefined)
    issue(
      ['auth', inline],
      `is required by auth mode ${mode} (in the environment or the config file, or as auth.${file})`,
    );
}

/** The cross-field rules of the auth settings. */
export function checkAuth(auth: AuthConfig, issue: (path: readonly string[], message: string) => void): void {
  const seen = new Set<string>();
  auth.modes.forEach((mode, i) => {
    if (seen.has(mode)) issue(['auth', 'modes'], `lists ${mode} twice`);
    seen.add(mode);
    // `none` accepts every request, so a mode after it would never be asked.
    if (mode === 'none' && i < auth.modes.length - 1)
      issue(['auth', 'modes'], 'none must come last: it accepts every request, so the modes after it would never run');
  });
  checkSecret(auth, 'jwt', 'jwtSecret', 'jwtSecretFile', issue);
  // One claim cannot be both a namespace (a string) and the services binding.
  if (auth.modes.includes('jwt') && auth.jwtClaim !== undefined && auth.jwtServicesClaim === auth.jwtClaim)
    issue(['auth', 'jwtServicesClaim'], `must differ from auth.jwtClaim (both are ${auth.jwtClaim})`);
  checkSecret(auth, 'admin', 'adminToken', 'adminTokenFile', issue);
}
