import * as z from 'zod/mini';
import { endpointsOfStoreUrl } from '../etcd/config.js';
import { section, setting } from './define.js';
import { DurationSchema } from './duration.js';

/** `kubernetes` holds rules only (Rule custom resources, read-only): the controller's store, never the registry's. */
export const STORE_TYPES = ['memory', 'file', 'etcd', 'kubernetes'] as const;

const text = z.string().check(z.minLength(1, { error: 'must not be empty' }));

/** An etcd client URL: `http://host:2379` or `https://…`. */
function isEndpointUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/**
 * Where a server keeps its state: `memory` (the embedded default: gone when the process ends),
 * `file` (memory, saved to `path` — `saved` says when — and read back on start) or `etcd`
 * (shared by every replica pointed at the same cluster and prefix). `owner` names the flags
 * (`--registry-store`, `--registry-store-endpoints`); `extra` adds a store's own settings.
 * `shared`: the command also has the `store` short form, which decides the type when none is
 * given (so the type has no default of its own).
 */
export function storeSection<X extends z.core.$ZodLooseShape>(
  owner: 'registry' | 'controller',
  what: string,
  saved: string,
  extra: X,
  shared = false,
) {
  const type = z.enum(STORE_TYPES, { error: `must be one of ${STORE_TYPES.join(', ')}` });
  const typeMeta = {
    kind: 'string',
    placeholder: '<type>',
    // `--registry-store file` reads better than `--registry-store-type file`.
    flag: `${owner}-store`,
    env: `WEFT_${owner.toUpperCase()}_STORE`,
    description: `Where ${what} are kept: memory (lost on exit), file (in memory, ${saved}, restored on start) or etcd (shared by every replica on the same etcd cluster and prefix)${owner === 'controller' ? '; or kubernetes (Rule custom resources in the namespace of the same name, read-only: edited with kubectl)' : ''}${shared ? '. Default: etcd when store is given, else memory' : ''}`,
  } as const;
  return section(
    {
      type: shared ? setting(type, typeMeta) : setting(type, { ...typeMeta, default: 'memory' }),
      path: setting(text, {
        kind: 'string',
        placeholder: '<file>',
        description: `File ${what} are saved to and restored from (store type file)`,
      }),
      endpoints: setting(
        z.array(
          z.string().check(
            z.refine(isEndpointUrl, {
              error: 'must be an http:// or https:// URL of an etcd member (http://host:2379)',
            }),
          ),
        ),
        {
          kind: 'list',
          placeholder: '<url,…>',
          description: 'Client URLs of the etcd cluster (store type etcd), e.g. http://etcd-0:2379,http://etcd-1:2379',
        },
      ),
      prefix: setting(
        z.string().check(z.regex(/^\/\S*[^/\s]$/, { error: 'must start with / and not end with one (e.g. /weft)' })),
        {
          kind: 'string',
          placeholder: '<key>',
          description:
            "Root of Weft's keys in etcd (store type etcd; default /weft); replicas sharing state use the same",
        },
      ),
      tls: section(
        {
          ca: setting(text, {
            kind: 'string',
            placeholder: '<file>',
            description:
              "PEM file of the CA that signed etcd's certificates (default: the system's roots for https://)",
          }),
          cert: setting(text, {
            kind: 'string',
            placeholder: '<file>',
            description: 'PEM file of the client certificate etcd asks for (with tls.key)',
          }),
          key: setting(text, {
            kind: 'string',
            placeholder: '<file>',
            description: 'PEM file of the client certificate’s private key (with tls.cert)',
          }),
        },
        'TLS to etcd (store type etcd)',
      ),
      username: setting(text, {
        kind: 'string',
        placeholder: '<user>',
        description: 'etcd user, for etcd password authentication (store type etcd)',
      }),
      password: setting(text, {
        kind: 'string',
        flag: false,
        secret: true,
        description:
          'Password of the etcd user (no flag: command lines are visible to every user of the machine; prefer passwordFile)',
      }),
      passwordFile: setting(text, {
        kind: 'string',
        placeholder: '<file>',
        description: 'File holding the etcd user’s password (a trailing newline is ignored)',
      }),
      timeout: setting(DurationSchema, {
        kind: 'duration',
        description: 'Deadline of each etcd request (store type etcd); a write not confirmed by then fails with 503',
        default: '5s',
      }),
      ...extra,
    },
    `The ${owner}'s store`,
  );
}

/** A validated store section, as far as the checks below need it. */
interface StoreConfig {
  type?: (typeof STORE_TYPES)[number] | undefined;
  path?: string | undefined;
  endpoints?: readonly string[] | undefined;
  tls: { cert?: string | undefined; key?: string | undefined };
  username?: string | undefined;
  password?: string | undefined;
  passwordFile?: string | undefined;
}

/** The cross-field rules of a store section: a file store needs its path, an etcd store its endpoints. */
export function checkStore(
  store: StoreConfig,
  path: readonly string[],
  issue: (path: readonly string[], message: string) => void,
): void {
  const at = path.join('.');
  if (store.type === 'file' && store.path === undefined)
    issue([...path, 'path'], `is required when ${at}.type is file`);
  if (store.type === 'kubernetes' && path[0] !== 'controller')
    issue([...path, 'type'], 'kubernetes holds rules only (the controller store): use memory, file or etcd');
  if (store.type !== 'etcd') return;
  if (store.endpoints === undefined || store.endpoints.length === 0)
    issue([...path, 'endpoints'], `is required when ${at}.type is etcd (or give store: etcd://host:2379,…)`);
  if (store.password !== undefined && store.passwordFile !== undefined)
    issue([...path, 'passwordFile'], `give ${at}.password or ${at}.passwordFile, not both`);
  if (store.username === undefined && (store.password !== undefined || store.passwordFile !== undefined))
    issue([...path, 'username'], 'is required with a password');
  if (store.username !== undefined && store.password === undefined && store.passwordFile === undefined)
    issue(
      [...path, 'password'],
      `is required with ${at}.username (in the environment or the config file, or as ${at}.passwordFile)`,
    );
  if ((store.tls.cert === undefined) !== (store.tls.key === undefined))
    issue(
      [...path, 'tls', store.tls.cert === undefined ? 'cert' : 'key'],
      'a client certificate needs both tls.cert and tls.key',
    );
}

/** `store`: the control plane's short form for both stores (`etcd://h1:2379,h2:2379`). */
export function sharedStoreSetting() {
  return setting(
    z.string().check(
      z.refine((url) => endpointsOfStoreUrl(url) !== undefined, {
        error: 'must be etcd://host:port[,host:port…] (etcds:// for TLS)',
      }),
    ),
    {
      kind: 'string',
      placeholder: '<url>',
      flag: 'store',
      env: 'WEFT_STORE',
      description:
        'Both stores on one etcd cluster, e.g. etcd://etcd-0:2379,etcd-1:2379 (etcds:// for TLS): run N replicas sharing it. registry.store and controller.store settings win over it',
    },
  );
}

/**
 * Applies the `store` short form: a store section without a type becomes `etcd` when `store` is
 * given (else `memory`), and an etcd section without endpoints takes the short form's.
 */
export function withSharedStore<
  S extends { type?: (typeof STORE_TYPES)[number] | undefined; endpoints?: string[] | undefined },
>(store: S, shared: string | undefined): S {
  const endpoints = shared === undefined ? undefined : endpointsOfStoreUrl(shared);
  const type = store.type ?? (endpoints === undefined ? 'memory' : 'etcd');
  return {
    ...store,
    type,
    ...(type === 'etcd' && store.endpoints === undefined && endpoints !== undefined ? { endpoints } : {}),
  };
}
