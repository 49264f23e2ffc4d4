import {
  DEFAULT_NAMESPACE,
  EndpointInputSchema,
  InvalidArgumentError,
  instanceId,
  MetadataSchema,
  type ServiceInstance,
  ServiceNameSchema,
  type ValidationIssue,
} from '@weft/core';
import { parse as parseYaml } from 'yaml';
import * as z from 'zod/mini';

const TYPES = ['http', 'https', 'tcp', 'udp', 'user'] as const;

/** An endpoint: `host:port` (of the service's `type`), or core's `{type, value}` / `{type, host, port}`. */
const EndpointItem = z.union([z.string({ error: 'must be "host:port" or a mapping' }), EndpointInputSchema], {
  error: 'must be "host:port" or a mapping {type, value} / {type, host, port}',
});

const ExternalService = z.strictObject(
  {
    name: ServiceNameSchema,
    /** Endpoint type of the `host:port` strings. Default `http`. */
    type: z.optional(z.enum(TYPES, { error: `must be one of ${TYPES.join(', ')}` })),
    endpoints: z
      .array(EndpointItem, { error: 'must be a list of endpoints' })
      .check(z.minLength(1, { error: 'must list at least one endpoint' })),
    tags: z.optional(z.array(z.string({ error: 'must be a string' }), { error: 'must be a list of tags' })),
    metadata: z.optional(MetadataSchema),
    status: z.optional(
      z.enum(['UP', 'STARTING', 'OUT_OF_SERVICE'], { error: 'must be UP, STARTING or OUT_OF_SERVICE' }),
    ),
  },
  { error: 'must be a mapping {name, endpoints, tags, metadata, type, status}' },
);

/**
 * The file source's document:
 *
 * ```yaml
 * services:
 *   - name: payments
 *     endpoints: ["10.1.0.5:443", "10.1.0.6:443"]
 *     type: https
 *     tags: [version=v1]
 *     metadata: {owner: billing}
 * ```
 *
 * JSON works too (it is YAML). An empty file (or `services: []`) is an empty catalogue.
 */
export const ExternalCatalogueSchema = z.strictObject(
  { services: z.optional(z.array(ExternalService, { error: 'must be a list of services' })) },
  { error: 'must be a mapping with a `services` list' },
);
export type ExternalCatalogue = z.output<typeof ExternalCatalogueSchema>;

const displayPath = (path: readonly PropertyKey[]): string =>
  path.reduce<string>(
    (out, seg) => (typeof seg === 'number' ? `${out}[${seg}]` : out === '' ? String(seg) : `${out}.${String(seg)}`),
    '',
  );

/**
 * Reads a catalogue file's text into instances, one per endpoint (id: core's `instanceId` of
 * service, type and value, as a registration of it would get).
 *
 * @throws InvalidArgumentError naming every bad field (`services[0].endpoints[1]`), or the YAML
 *   error's line; nothing of a bad file is used.
 */
export function parseExternalCatalogue(text: string, what: string): ServiceInstance[] {
  let doc: unknown;
  try {
    doc = parseYaml(text) ?? {};
  } catch (err) {
    throw new InvalidArgumentError(what, [{ path: '', message: err instanceof Error ? err.message : String(err) }]);
  }
  const parsed = z.safeParse(ExternalCatalogueSchema, doc);
  if (!parsed.success)
    throw new InvalidArgumentError(
      what,
      parsed.error.issues.map((i) => ({ path: displayPath(i.path), message: i.message })),
    );
  const issues: ValidationIssue[] = [];
  const out = new Map<string, ServiceInstance>();
  (parsed.data.services ?? []).forEach((service, s) => {
    service.endpoints.forEach((item, e) => {
      // A mapping was normalised by the schema already; a string is checked as `{type, value}`.
      const endpoint =
        typeof item === 'string'
          ? z.safeParse(EndpointInputSchema, { type: service.type ?? 'http', value: item })
          : { success: true as const, data: item };
      if (!endpoint.success) {
        for (const i of endpoint.error.issues)
          issues.push({ path: displayPath(['services', s, 'endpoints', e, ...i.path]), message: i.message });
        return;
      }
      const id = instanceId(service.name, endpoint.data.type, endpoint.data.value);
      out.set(
        id,
        Object.freeze({
          id,
          namespace: DEFAULT_NAMESPACE,
          service: service.name,
          endpoint: endpoint.data,
          tags: Object.freeze([...(service.tags ?? [])]),
          metadata: Object.freeze({ ...(service.metadata ?? {}) }),
          status: service.status ?? 'UP',
          ttl: 0,
          registeredAt: 0,
          lastHeartbeat: 0,
        }),
      );
    });
  });
  if (issues.length > 0) throw new InvalidArgumentError(what, issues);
  return [...out.values()];
}
