import { encodeInstance, instanceKey } from '@weft/adapters/etcd';
import type { TestRecord } from '@weft/adapters/testkit';
import { instanceId, type ServiceInstance } from '@weft/core';
import { Etcd3 } from 'etcd3';

export { RecordingLogger } from './recording-logger.js';

/** The instance an EtcdRegistry would store for `record`. */
export function instanceOf(record: TestRecord, namespace = 'default'): ServiceInstance {
  const value = `${record.host}:${record.port}`;
  const now = Date.now();
  return {
    id: instanceId(record.service, 'http', value),
    namespace,
    service: record.service,
    endpoint: { type: 'http', value, host: record.host, port: record.port },
    tags: [...record.tags],
    metadata: {},
    status: 'UP',
    ttl: 30,
    registeredAt: now,
    lastHeartbeat: now,
  };
}

/** Retries `fn` until it succeeds or `timeoutMs` passes (writes right after a server restart). */
export async function retrying<T>(fn: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Writes records the way an EtcdRegistry does, straight to the server (never through a test proxy). */
export class DirectWriter {
  readonly client: Etcd3;
  private bad = 0;
  constructor(
    endpoint: string,
    readonly prefix = '/weft',
  ) {
    this.client = new Etcd3({ hosts: endpoint });
  }
  key(r: TestRecord): string {
    const i = instanceOf(r);
    return instanceKey(this.prefix, 'default', i.service, i.id);
  }
  upsert(r: TestRecord): Promise<unknown> {
    return retrying(() =>
      this.client
        .put(this.key(r))
        .value(encodeInstance(instanceOf(r)))
        .exec(),
    );
  }
  remove(r: TestRecord): Promise<unknown> {
    return retrying(() => this.client.delete().key(this.key(r)).exec());
  }
  async writeBad(service: string): Promise<{ key: string }> {
    this.bad++;
    const key = `${this.prefix}/default/services/${service}/bad${this.bad}`;
    await retrying(() => this.client.put(key).value(`{"id": "bad${this.bad}", not json`).exec());
    return { key };
  }
  close(): void {
    this.client.close();
  }
}
