import { DEFAULT_PORTS } from '../../config/schemas.js';

/** Where the control plane is and how to authenticate to it. */
export interface Endpoints {
  readonly controller: Endpoint;
  readonly registry: Endpoint;
  /** The namespace to act in, sent to both servers in {@link Namespace.header}; unset: none sent. */
  readonly namespace: Namespace | undefined;
  readonly debug: boolean;
}

/**
 * The `admin` auth mode takes the namespace from a header (`A8-Namespace` unless the server sets
 * `auth.adminHeader`): one admin token then reaches every tenant, so the tenant is per command.
 */
export interface Namespace {
  readonly name: string;
  readonly from: string;
  readonly header: string;
}

/** The server's default `auth.adminHeader`. */
export const DEFAULT_NAMESPACE_HEADER = 'A8-Namespace';

/** One server: its base URL, an optional bearer token, and where each came from (for `info`). */
export interface Endpoint {
  readonly url: string;
  readonly urlFrom: string;
  readonly token: string | undefined;
  readonly tokenFrom: string | undefined;
}

/**
 * `weft control-plane` serves both APIs on one port, so both default to it. Amalgam8's a8ctl
 * defaulted to 31200 / 31300 (its servers published alone); its users set `A8_*_URL` anyway.
 */
export const DEFAULT_URL = `http://127.0.0.1:${DEFAULT_PORTS['control-plane']}`;

/** The flags that name the servers, each with a8ctl 0.3's spelling as an alias. */
export const ENDPOINT_FLAGS = {
  'controller-url': 'a8-controller-url',
  'controller-token': 'a8-controller-token',
  'registry-url': 'a8-registry-url',
  'registry-token': 'a8-registry-token',
} as const;

type FlagValues = Readonly<Record<string, unknown>>;

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * First found wins: the flag (or a8ctl's `--a8-…` spelling), `WEFT_<NAME>`, a8ctl's `A8_<NAME>`
 * (so an Amalgam8 user's environment keeps working), then the default. An empty variable
 * counts as unset, as in the server commands.
 */
function pick(
  flags: FlagValues,
  env: NodeJS.ProcessEnv,
  flag: keyof typeof ENDPOINT_FLAGS,
): { value: string; from: string } | undefined {
  const alias = ENDPOINT_FLAGS[flag];
  const name = flag.toUpperCase().replaceAll('-', '_');
  const candidates: [unknown, string][] = [
    [flags[flag], `--${flag}`],
    [flags[alias], `--${alias}`],
    [env[`WEFT_${name}`], `env WEFT_${name}`],
    [env[`A8_${name}`], `env A8_${name}`],
  ];
  for (const [value, from] of candidates) {
    const v = text(value);
    if (v !== undefined) return { value: v, from };
  }
  return undefined;
}

function endpoint(flags: FlagValues, env: NodeJS.ProcessEnv, server: 'controller' | 'registry'): Endpoint {
  const url = pick(flags, env, `${server}-url`);
  const token = pick(flags, env, `${server}-token`);
  return {
    // A trailing slash would double the one every path starts with.
    url: (url?.value ?? DEFAULT_URL).replace(/\/+$/, ''),
    urlFrom: url?.from ?? 'default',
    token: token?.value,
    tokenFrom: token?.from,
  };
}

/** `--namespace`, `WEFT_NAMESPACE`, `A8_NAMESPACE`: first set wins, as for the URLs. */
function namespace(flags: FlagValues, env: NodeJS.ProcessEnv): Namespace | undefined {
  const candidates: [unknown, string][] = [
    [flags.namespace, '--namespace'],
    [env.WEFT_NAMESPACE, 'env WEFT_NAMESPACE'],
    [env.A8_NAMESPACE, 'env A8_NAMESPACE'],
  ];
  const found = candidates.find(([v]) => text(v) !== undefined);
  if (found === undefined) return undefined;
  const header = text(flags['namespace-header']) ?? text(env.WEFT_NAMESPACE_HEADER) ?? DEFAULT_NAMESPACE_HEADER;
  return { name: String(found[0]), from: found[1], header };
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);

/** The endpoints from the command's flags and the environment. */
export function readEndpoints(flags: FlagValues, env: NodeJS.ProcessEnv): Endpoints {
  const debugEnv = env.WEFT_DEBUG ?? env.A8_DEBUG ?? '';
  return {
    controller: endpoint(flags, env, 'controller'),
    registry: endpoint(flags, env, 'registry'),
    namespace: namespace(flags, env),
    debug: flags.debug === true || TRUE.has(debugEnv.toLowerCase()),
  };
}
