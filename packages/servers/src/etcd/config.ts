import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, type ValidationIssue } from '@weft/core';

/** Root of Weft's keys in etcd when no prefix is given (the etcd adapters' default too). */
export const DEFAULT_ETCD_PREFIX = '/weft';

/**
 * A store on etcd, as configuration: where the cluster is and how to reach it. The registry's
 * and the controller's stores take the same fields; `weft control-plane --store etcd://…` sets
 * both. Every replica of the control plane pointed at the same cluster and prefix shares one
 * state.
 */
export interface EtcdStoreConfig {
  readonly type: 'etcd';
  /** Client URLs of the cluster's members: `http://host:2379`, `https://…` (at least one). */
  readonly endpoints: readonly string[];
  /** Root of Weft's keys. Default `/weft`. */
  readonly prefix?: string | undefined;
  /** TLS, as PEM files: `ca` verifies the members; `cert` and `key` are the client's certificate. */
  readonly tls?:
    | { readonly ca?: string | undefined; readonly cert?: string | undefined; readonly key?: string | undefined }
    | undefined;
  /** etcd user (password authentication). */
  readonly username?: string | undefined;
  /** The user's password. Prefer `passwordFile` outside tests. */
  readonly password?: string | undefined;
  /** File holding the password (a trailing newline is ignored). */
  readonly passwordFile?: string | undefined;
  /** Deadline of each etcd request, ms. Default 5 000. */
  readonly requestTimeoutMs?: number | undefined;
}

/** What the etcd adapters take (`EtcdConnectionOptions` of `@weft/adapters/etcd`). */
export interface EtcdConnection {
  readonly hosts: string[];
  readonly clientOptions: object;
  readonly prefix: string;
  readonly requestTimeoutMs: number;
}

/** `etcd://h1:2379,h2:2379` and `etcds://…` (TLS): the short form of `--store`. */
export const ETCD_URL = /^etcds?:\/\/[^\s/]+\/?$/;

/**
 * The endpoints of a `--store` URL: `etcd://h1:2379,h2:2379` → `http://h1:2379`,
 * `http://h2:2379` (`etcds://` → `https://`). Undefined when the text is not such a URL.
 */
export function endpointsOfStoreUrl(url: string): string[] | undefined {
  if (!ETCD_URL.test(url)) return undefined;
  const tls = url.startsWith('etcds:');
  const hosts = url
    .replace(/^etcds?:\/\//, '')
    .replace(/\/$/, '')
    .split(',');
  if (hosts.some((h) => !/^[^\s,/:]+(:\d{1,5})?$/.test(h) && !/^\[[0-9a-fA-F:.]+\](:\d{1,5})?$/.test(h)))
    return undefined;
  return hosts.map((h) => `${tls ? 'https' : 'http'}://${h}`);
}

/** The problems of an etcd store config, each naming its field under `path` (`registry.store`). */
export function etcdConfigIssues(config: EtcdStoreConfig, path: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const at = (field: string, message: string): void => {
    issues.push({ path: path === '' ? field : `${path}.${field}`, message });
  };
  if (!Array.isArray(config.endpoints) || config.endpoints.length === 0)
    at('endpoints', 'must list at least one etcd client URL (http://host:2379)');
  else
    config.endpoints.forEach((e, i) => {
      if (typeof e !== 'string' || !isEndpoint(e))
        at(`endpoints[${i}]`, `must be an http:// or https:// URL of an etcd member (got ${JSON.stringify(e)})`);
    });
  if (config.prefix !== undefined && (typeof config.prefix !== 'string' || !/^\/[^\s]*[^/\s]$/.test(config.prefix)))
    at('prefix', 'must start with / and not end with one (e.g. /weft)');
  if (config.password !== undefined && config.passwordFile !== undefined)
    at('passwordFile', 'give password or passwordFile, not both');
  if (config.username === undefined && (config.password !== undefined || config.passwordFile !== undefined))
    at('username', 'is required with a password');
  if (config.username !== undefined && config.password === undefined && config.passwordFile === undefined)
    at('password', 'is required with a username (in the environment or the config file, or as passwordFile)');
  const tls = config.tls ?? {};
  if ((tls.cert === undefined) !== (tls.key === undefined))
    at(tls.cert === undefined ? 'tls.cert' : 'tls.key', 'a client certificate needs both tls.cert and tls.key');
  const t = config.requestTimeoutMs;
  if (t !== undefined && !(typeof t === 'number' && Number.isFinite(t) && t > 0))
    at('requestTimeoutMs', 'must be a number > 0');
  return issues;
}

function isEndpoint(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/**
 * Checks the config and reads its files (TLS, password): the connection options of the etcd
 * adapters. `what` names the options in errors (`controller options`), `path` the config's place
 * in them (`store`).
 *
 * @throws InvalidArgumentError naming each bad field, or each file that cannot be read.
 */
export async function etcdConnection(config: EtcdStoreConfig, what: string, path: string): Promise<EtcdConnection> {
  const issues = etcdConfigIssues(config, path);
  if (issues.length > 0) throw new InvalidArgumentError(what, issues);
  const field = (name: string): string => (path === '' ? name : `${path}.${name}`);
  const read = async (file: string | undefined, name: string): Promise<Buffer | undefined> => {
    if (file === undefined) return undefined;
    try {
      return await readFile(file);
    } catch (err) {
      issues.push({ path: field(name), message: `cannot be read (${(err as NodeJS.ErrnoException).code ?? err})` });
      return undefined;
    }
  };
  const tls = config.tls ?? {};
  const [ca, cert, key, passwordFile] = await Promise.all([
    read(tls.ca, 'tls.ca'),
    read(tls.cert, 'tls.cert'),
    read(tls.key, 'tls.key'),
    read(config.passwordFile, 'passwordFile'),
  ]);
  if (issues.length > 0) throw new InvalidArgumentError(what, issues);
  const password = config.password ?? passwordFile?.toString('utf8').replace(/\r?\n$/, '');
  const clientOptions: Record<string, unknown> = {};
  // Without a CA, gRPC verifies against the system's roots (etcd3 does the same for https:// hosts).
  if (ca !== undefined || cert !== undefined)
    clientOptions.credentials = { rootCertificate: ca, privateKey: key, certChain: cert };
  if (config.username !== undefined && password !== undefined)
    clientOptions.auth = { username: config.username, password };
  return {
    hosts: [...config.endpoints],
    clientOptions,
    prefix: config.prefix ?? DEFAULT_ETCD_PREFIX,
    requestTimeoutMs: config.requestTimeoutMs ?? 5_000,
  };
}

/** `etcd http://a:2379,http://b:2379 /weft`: the store in messages (never its credentials). */
export function describeEtcd(endpoints: readonly string[], prefix: string): string {
  return `etcd ${endpoints.join(',')} ${prefix}`;
}
