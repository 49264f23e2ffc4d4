import {
  type BackoffOptions,
  type Clock,
  type EndpointType,
  EndpointTypeSchema,
  InvalidArgumentError,
  systemClock,
  type ValidationIssue,
} from '@weft/core';
import { WATCH_BACKOFF } from '../internal/backoff.js';
import { type AdapterLogger, processWarningLogger } from '../internal/log.js';
import type { CatalogWatchOptions } from './catalog-watch.js';
import type { ConsulConnectionOptions } from './client.js';

/** How the Consul adapters watch: options shared by {@link ConsulSource} and {@link ConsulRegistry}. */
export interface ConsulWatchOptions extends ConsulConnectionOptions {
  /**
   * Longest time Consul holds a blocking query, in seconds (1–600). Default 30. Each request
   * waits a random 90–100 % of it; a request that has not answered 2 s after its wait (plus
   * Consul's own wait/16 jitter) counts as hung and is retried, so this also bounds how long a
   * silently dead connection goes unnoticed.
   */
  waitSeconds?: number;
  /** Reconnect backoff after a failed request. Default 100 ms doubling to 5 s, full jitter. */
  backoff?: BackoffOptions;
  /**
   * A service registered with an empty address: `node` (default) uses its node's address, as
   * Consul's DNS does; `skip` leaves it out. Either way an instance with no address at all is
   * skipped with a `WEFT_WARN_CONSUL_EMPTY_ADDRESS` warning naming it.
   */
  emptyAddress?: 'node' | 'skip';
  /** Endpoint type of services that Weft did not register (no `weft-type` meta). Default `http`. */
  endpointType?: EndpointType;
  /** Services never watched in catalog-wide mode. Default `['consul']` (Consul's own servers). */
  exclude?: readonly string[];
  /** Where warnings go. Default: Node process warnings (`process.emitWarning`). */
  logger?: AdapterLogger;
  /** Clock for timestamps, backoff sleeps and the wait for the catalog after a write; the system clock by default. */
  clock?: Clock;
}

/** Validated watch settings. */
export type ResolvedWatchOptions = Omit<CatalogWatchOptions, 'services' | 'source'>;

function isPositive(n: unknown): n is number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0;
}

/** Validates {@link ConsulWatchOptions}; every problem is named in one `WEFT_ERR_INVALID_ARGUMENT`. */
export function resolveWatchOptions(
  options: ConsulWatchOptions,
  issues: ValidationIssue[],
): ResolvedWatchOptions & ConsulConnectionOptions {
  const waitSeconds = options.waitSeconds ?? 30;
  if (!isPositive(waitSeconds) || waitSeconds < 1 || waitSeconds > 600)
    issues.push({ path: 'waitSeconds', message: `must be between 1 and 600 (got ${String(options.waitSeconds)})` });
  const emptyAddress = options.emptyAddress ?? 'node';
  if (emptyAddress !== 'node' && emptyAddress !== 'skip')
    issues.push({ path: 'emptyAddress', message: `must be "node" or "skip" (got ${JSON.stringify(emptyAddress)})` });
  const endpointType = options.endpointType ?? 'http';
  if (!EndpointTypeSchema.safeParse(endpointType).success)
    issues.push({ path: 'endpointType', message: `must be one of ${EndpointTypeSchema.options.join(', ')}` });
  const b = options.backoff ?? {};
  if (b.baseMs !== undefined && !isPositive(b.baseMs)) issues.push({ path: 'backoff.baseMs', message: 'must be > 0' });
  if (b.maxMs !== undefined && !isPositive(b.maxMs)) issues.push({ path: 'backoff.maxMs', message: 'must be > 0' });
  if (options.token !== undefined && typeof options.token !== 'string')
    issues.push({ path: 'token', message: 'must be a string' });
  if (options.datacenter !== undefined && (typeof options.datacenter !== 'string' || options.datacenter === ''))
    issues.push({ path: 'datacenter', message: 'must be a non-empty string' });
  const exclude = options.exclude ?? ['consul'];
  if (!Array.isArray(exclude) || exclude.some((s) => typeof s !== 'string'))
    issues.push({ path: 'exclude', message: 'must be a list of service names' });
  return {
    ...(options.address === undefined ? {} : { address: options.address }),
    ...(options.token === undefined ? {} : { token: options.token }),
    ...(options.datacenter === undefined ? {} : { datacenter: options.datacenter }),
    waitMs: waitSeconds * 1000,
    backoff: { ...WATCH_BACKOFF, ...b },
    emptyAddress,
    endpointType,
    exclude: [...exclude],
    clock: options.clock ?? systemClock,
    logger: options.logger ?? processWarningLogger,
  };
}

/** Throws the collected issues, if any. */
export function throwIfIssues(what: string, issues: readonly ValidationIssue[]): void {
  if (issues.length > 0) throw new InvalidArgumentError(what, issues);
}
