import * as z from 'zod/mini';
import { type Clock, systemClock } from '../clock/index.js';
import { InvalidArgumentError, parseOrThrow } from '../errors/index.js';
import type { ServiceInstance } from '../model/index.js';
import { setUpZod } from '../zod-setup.js';
import { type TtlPolicy, TtlPolicySchema } from './ttl.js';
import type { RegistrySnapshot } from './types.js';

setUpZod();

/** Per-namespace instance limit: one number for every namespace, or a function of the namespace. */
export type CapacityOption = number | ((namespace: string) => number);

/** Options of {@link MemoryRegistry}. */
export interface MemoryRegistryOptions {
  /** Drives TTL expiry; defaults to the system clock. Tests pass a `VirtualClock`. */
  clock?: Clock;
  /** TTL policy; unset fields keep Amalgam8's values (default 30 s, bounds 10 s – 10 min). */
  ttl?: Partial<TtlPolicy>;
  /**
   * Most instances a namespace may hold; a registration of a new id beyond it fails with
   * `WEFT_ERR_NAMESPACE_CAPACITY`. Unlimited by default.
   */
  capacity?: CapacityOption;
  /**
   * Persist the catalogue to this file: it is restored (synchronously) when the registry is
   * constructed, with every TTL re-armed from that moment, and rewritten atomically after visible
   * changes (debounced) and on `close()` — close the registry on shutdown, or the last
   * `snapshotDebounceMs` of changes are lost (`flush()` writes them at once, for a server that
   * must not acknowledge a change before it is on disk). Heartbeats are not written: restored instances get
   * a full TTL, and clients that are gone simply expire. Off by default.
   */
  snapshotFile?: string;
  /** How long changes accumulate before the snapshot file is rewritten, in ms. Default 1000. */
  snapshotDebounceMs?: number;
}

/** Events of {@link MemoryRegistry}. */
export interface MemoryRegistryEvents {
  /** An instance's TTL ran out and it was removed (the view is the last state it had). */
  expired: (instance: ServiceInstance) => void;
  /**
   * A watch listener threw or rejected (or an `onEnd` callback or `expired` handler threw). The
   * failure is isolated: other listeners, and later deliveries to the same one, go on. With no
   * handler for this event the failure is reported as a process warning, so it is never lost.
   * `snapshot` is the one being delivered, if any.
   */
  listenerError: (error: unknown, snapshot: RegistrySnapshot | undefined) => void;
  /** Writing the snapshot file failed; the next change tries again. Unhandled, it becomes a process warning. */
  snapshotError: (error: unknown) => void;
}

/** Options after validation, with defaults applied. */
export interface ResolvedOptions {
  readonly clock: Clock;
  readonly ttl: TtlPolicy;
  readonly capacityOf: (namespace: string) => number;
  readonly snapshotFile: string | undefined;
  readonly snapshotDebounceMs: number;
}

const OptionsSchema = z.strictObject({
  clock: z.optional(
    z.custom<Clock>(
      (c) => typeof c === 'object' && c !== null && 'now' in c && 'setTimeout' in c,
      'must be a Clock (now, setTimeout)',
    ),
  ),
  ttl: z.optional(z.unknown()),
  capacity: z.optional(
    z.union([
      z
        .number()
        .check(z.int({ error: 'must be a whole number or a function' }))
        .check(z.minimum(0, { error: 'must not be negative' })),
      z.literal(Number.POSITIVE_INFINITY),
      z.custom<(namespace: string) => number>((f) => typeof f === 'function'),
    ]),
  ),
  snapshotFile: z.optional(z.string().check(z.minLength(1, { error: 'must not be empty' }))),
  snapshotDebounceMs: z.optional(z.number().check(z.minimum(0, { error: 'must not be negative' }))),
});

/** Validates options (naming any bad field) and fills in the defaults. */
export function resolveOptions(options: MemoryRegistryOptions | undefined): ResolvedOptions {
  const o = parseOrThrow(OptionsSchema, options ?? {}, 'MemoryRegistry options');
  const ttl = parseTtl(o.ttl);
  const capacity = o.capacity ?? Number.POSITIVE_INFINITY;
  return {
    clock: o.clock ?? systemClock,
    ttl,
    capacityOf: typeof capacity === 'number' ? () => capacity : checkedCapacity(capacity),
    snapshotFile: o.snapshotFile,
    snapshotDebounceMs: o.snapshotDebounceMs ?? 1000,
  };
}

function parseTtl(ttl: unknown): TtlPolicy {
  try {
    return Object.freeze(parseOrThrow(TtlPolicySchema, ttl ?? {}, 'TTL policy'));
  } catch (err) {
    // Re-root the paths so the message names `ttl.minSeconds`, as the caller wrote it.
    if (err instanceof InvalidArgumentError)
      throw new InvalidArgumentError(
        'MemoryRegistry options',
        err.issues.map((i) => ({ path: i.path === '' ? 'ttl' : `ttl.${i.path}`, message: i.message })),
        { cause: err },
      );
    throw err;
  }
}

/** Wraps a capacity function so a bad answer fails loudly instead of silently (NaN compares false). */
function checkedCapacity(fn: (namespace: string) => number): (namespace: string) => number {
  return (namespace) => {
    const cap = fn(namespace);
    if (typeof cap !== 'number' || Number.isNaN(cap) || cap < 0)
      throw new InvalidArgumentError('MemoryRegistry options', [
        { path: 'capacity', message: `returned ${String(cap)} for namespace "${namespace}"; expected a number ≥ 0` },
      ]);
    return cap;
  };
}
