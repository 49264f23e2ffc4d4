import * as z from 'zod/mini';
import { InvalidArgumentError, parseOrThrow } from '../errors/index.js';
import { hasAllTags, type InstanceStatus, InstanceStatusSchema, type ServiceInstance } from '../model/index.js';
import { setUpZod } from '../zod-setup.js';
import { DEFAULT_NAMESPACE, type InstanceQuery, type NamespaceOption } from './types.js';

setUpZod();

/** A namespace name: any non-empty string (Amalgam8 derived it from the caller's token). */
export const NamespaceSchema = z
  .string({ error: 'must be a string' })
  .check(z.minLength(1, { error: 'must not be empty' }));

const InstanceQuerySchema = z.strictObject({
  namespace: z.optional(NamespaceSchema),
  service: z.optional(z.string({ error: 'must be a string' })),
  tags: z.optional(z.array(z.string({ error: 'must be a string' }))),
  status: z.optional(z.union([z.literal('ALL'), z.array(InstanceStatusSchema)])),
});

const WatchScopeSchema = z.object({
  namespace: z.optional(NamespaceSchema),
  service: z.optional(z.string({ error: 'must be a string' }).check(z.minLength(1, { error: 'must not be empty' }))),
});

/** A validated {@link InstanceQuery} with its defaults applied. */
export interface ResolvedQuery {
  readonly namespace: string;
  readonly service: string | undefined;
  readonly tags: readonly string[];
  /** Accepted statuses; undefined for all. */
  readonly statuses: ReadonlySet<InstanceStatus> | undefined;
}

const UP_ONLY: ReadonlySet<InstanceStatus> = new Set(['UP']);

/** Validates a query (naming any bad field) and applies the defaults: default namespace, UP only. */
export function resolveQuery(query: InstanceQuery | undefined): ResolvedQuery {
  const q = parseOrThrow(InstanceQuerySchema, query ?? {}, 'instance query');
  return {
    namespace: q.namespace ?? DEFAULT_NAMESPACE,
    service: q.service,
    tags: q.tags ?? [],
    statuses: q.status === 'ALL' ? undefined : q.status === undefined ? UP_ONLY : new Set(q.status),
  };
}

/** True when `instance` satisfies every criterion of the query except namespace and service. */
export function matches(instance: ServiceInstance, query: ResolvedQuery): boolean {
  return (
    (query.statuses === undefined || query.statuses.has(instance.status)) &&
    (query.tags.length === 0 || hasAllTags(instance.tags, query.tags))
  );
}

/**
 * The namespace an operation acts in. Kept free of zod because it sits on the renewal hot path:
 * the common case (no options) costs one property read.
 */
export function namespaceOf(options: NamespaceOption | undefined): string {
  const ns = options?.namespace;
  if (ns === undefined) return DEFAULT_NAMESPACE;
  if (typeof ns !== 'string' || ns === '')
    throw new InvalidArgumentError('namespace', [
      { path: 'namespace', message: typeof ns === 'string' ? 'must not be empty' : 'must be a string' },
    ]);
  return ns;
}

/** Validates an instance id argument. */
export function checkId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || id === '')
    throw new InvalidArgumentError('instance id', [
      { path: 'id', message: typeof id === 'string' ? 'must not be empty' : 'must be a string' },
    ]);
}

/** Validates the namespace/service part of watch options. */
export function resolveWatchScope(options: { namespace?: string; service?: string } | undefined): {
  namespace: string;
  service: string | undefined;
} {
  const o = parseOrThrow(
    WatchScopeSchema,
    { namespace: options?.namespace, service: options?.service },
    'watch options',
  );
  return { namespace: o.namespace ?? DEFAULT_NAMESPACE, service: o.service };
}
