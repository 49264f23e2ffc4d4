import { Amalgam8InstanceSchema, type Endpoint, type ServiceInstance, splitHostPort } from '@weft/core';

/** An entry of the list that could not be mapped, and why. */
export interface BadInstance {
  /** `instances[3]`, or the instance's id when it has one. */
  readonly object: string;
  readonly problem: string;
}

/** The outcome of mapping a `GET /api/v1/instances` body. */
export interface MappedInstances {
  readonly instances: readonly ServiceInstance[];
  readonly bad: readonly BadInstance[];
}

/**
 * Maps an Amalgam8 registry listing (`{instances: [...]}`, as Weft's registry server and
 * Amalgam8's answer `GET /api/v1/instances`) to Weft instances in `namespace`. Entries that do not
 * validate, or whose non-`user` endpoint is not `host:port`, are listed in `bad` and left out.
 *
 * @throws Error when the body is not a listing at all (no `instances` array).
 */
export function mapInstances(body: unknown, namespace: string): MappedInstances {
  const list = (body as { instances?: unknown } | null | undefined)?.instances;
  if (!Array.isArray(list)) throw new Error('the registry answered without an `instances` array');
  const instances: ServiceInstance[] = [];
  const bad: BadInstance[] = [];
  list.forEach((entry: unknown, i) => {
    const id = (entry as { id?: unknown } | null)?.id;
    const object = typeof id === 'string' && id !== '' ? `instance ${id}` : `instances[${i}]`;
    // Amalgam8 (and Weft's registry, byte for byte) leaves empty fields out, Go's `omitempty`:
    // a zero TTL, and the status or heartbeat of a `fields=` projection. Defaults fill them in.
    const parsed = Amalgam8InstanceSchema.safeParse(
      typeof entry === 'object' && entry !== null ? { ttl: 0, status: 'UP', last_heartbeat: '', ...entry } : entry,
    );
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      bad.push({ object, problem: `${issue?.path.join('.') || 'entry'}: ${issue?.message ?? 'invalid'}` });
      return;
    }
    const a = parsed.data;
    let endpoint: Endpoint = { type: a.endpoint.type, value: a.endpoint.value };
    if (a.endpoint.type !== 'user') {
      const hp = splitHostPort(a.endpoint.value);
      if (hp === undefined) {
        bad.push({ object, problem: `endpoint.value: must be "host:port" (got ${JSON.stringify(a.endpoint.value)})` });
        return;
      }
      endpoint = { ...endpoint, host: hp.host, port: hp.port };
    }
    const heartbeat = Date.parse(a.last_heartbeat);
    const lastHeartbeat = Number.isFinite(heartbeat) ? heartbeat : 0;
    instances.push(
      Object.freeze({
        id: a.id,
        namespace,
        service: a.service_name,
        endpoint,
        tags: Object.freeze([...(a.tags ?? [])]),
        metadata: a.metadata ?? {},
        status: a.status,
        ttl: a.ttl,
        // The wire format has no registration time; the last heartbeat is the closest it says.
        registeredAt: lastHeartbeat,
        lastHeartbeat,
      }),
    );
  });
  return { instances: Object.freeze(instances), bad };
}
