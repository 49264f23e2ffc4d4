import type { Amalgam8Registration, InstanceStatus, Registration } from '@weft/core';
import { ControlPlaneRequestError } from './errors.js';
import type { ControlPlaneHttp } from './http.js';

/** What the registry answered to a registration (Amalgam8's `201 {id, ttl, links}`). */
export interface RegisteredInstance {
  /** The instance id (deterministic: the same endpoint always gets the same id). */
  readonly id: string;
  /** The TTL the registry granted, seconds (it clamps what was asked). */
  readonly ttl: number;
  /** Links the registry gave (`self`, `heartbeat`), if any. */
  readonly links: Readonly<Record<string, string>>;
}

/** Request options of one call. */
export interface CallOptions {
  /** The replica to call. Default: the connection's first. */
  base?: URL;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** A validated Weft registration as Amalgam8's `POST /api/v1/instances` body. */
export function toAmalgam8Body(r: Registration): Amalgam8Registration {
  return {
    service_name: r.service,
    endpoint: { type: r.endpoint.type, value: r.endpoint.value },
    ttl: r.ttl,
    status: r.status,
    metadata: r.metadata,
    tags: [...r.tags],
  };
}

const INSTANCES = '/api/v1/instances';

/** The write side of Amalgam8's registry API, as Weft's registry server implements it. */
export class RegistryApi {
  constructor(private readonly http: ControlPlaneHttp) {}

  /** `POST /api/v1/instances`: registers (or, for the same endpoint, overwrites) an instance. */
  async register(body: Amalgam8Registration, options: CallOptions = {}): Promise<RegisteredInstance> {
    const res = await this.http.json({
      method: 'POST',
      path: INSTANCES,
      json: body,
      ...(options.base === undefined ? {} : { base: options.base }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.timeoutMs === undefined ? {} : { headersTimeoutMs: options.timeoutMs }),
    });
    const answer = (res.body ?? {}) as { id?: unknown; ttl?: unknown; links?: unknown };
    if (typeof answer.id !== 'string' || answer.id === '')
      throw new ControlPlaneRequestError('POST', INSTANCES, res.status, 'the registry answered without an instance id');
    const links: Record<string, string> = {};
    if (typeof answer.links === 'object' && answer.links !== null)
      for (const [k, v] of Object.entries(answer.links)) if (typeof v === 'string') links[k] = v;
    const ttl = typeof answer.ttl === 'number' && answer.ttl > 0 ? answer.ttl : (body.ttl ?? 0);
    return { id: answer.id, ttl, links };
  }

  /** `PUT /api/v1/instances/{id}/heartbeat`. Rejects with status 410 when the registry no longer knows it. */
  async heartbeat(id: string, options: CallOptions = {}): Promise<void> {
    await this.call('PUT', `${INSTANCES}/${encodeURIComponent(id)}/heartbeat`, options);
  }

  /**
   * `PUT /api/v1/instances/{id}/status` with `{status}`: Weft's call (Amalgam8's registry has none,
   * and answers 404 or 405). Rejects with status 410 when the registry no longer knows the instance.
   */
  async setStatus(id: string, status: InstanceStatus, options: CallOptions = {}): Promise<void> {
    await this.call('PUT', `${INSTANCES}/${encodeURIComponent(id)}/status`, options, { status });
  }

  /** `DELETE /api/v1/instances/{id}`. Rejects with status 410 when the registry no longer knows it. */
  async deregister(id: string, options: CallOptions = {}): Promise<void> {
    await this.call('DELETE', `${INSTANCES}/${encodeURIComponent(id)}`, options);
  }

  private async call(method: 'PUT' | 'DELETE', path: string, options: CallOptions, json?: unknown): Promise<void> {
    const res = await this.http.request({
      method,
      path,
      ...(json === undefined ? {} : { json }),
      ...(options.base === undefined ? {} : { base: options.base }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      // Small answers: the deadline covers the whole call, precisely (a heartbeat must fail in time).
      ...(options.timeoutMs === undefined
        ? {}
        : { headersTimeoutMs: options.timeoutMs, deadlineMs: options.timeoutMs }),
    });
    if (res.statusCode >= 300) throw await this.http.failure({ method, path }, res);
    await res.body.dump();
  }
}
