import type { ServiceInstance } from '@weft/core';
import type { AdapterLogger } from '../internal/log.js';
import { decodeInstance } from './keys.js';
import type { KvState } from './prefix-watch.js';

interface Entry {
  readonly modRevision: number;
  readonly instance: ServiceInstance | undefined;
}

/** Orders instances by service, then id: the stable order snapshots promise. */
export function byServiceThenId(a: ServiceInstance, b: ServiceInstance): number {
  if (a.service !== b.service) return a.service < b.service ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Turns a watched key/value state into instances. A value is decoded once per revision it was
 * written at; one that is not an instance is skipped with a `WEFT_WARN_ETCD_BAD_VALUE` warning
 * naming the key — once, not on every later change of the prefix — and never affects the others.
 */
export class InstanceDecoder {
  private cache = new Map<string, Entry>();

  constructor(
    private readonly prefix: string,
    private readonly source: string,
    private readonly logger: AdapterLogger,
  ) {}

  decode(state: ReadonlyMap<string, KvState>): ServiceInstance[] {
    const out: ServiceInstance[] = [];
    const next = new Map<string, Entry>();
    for (const [key, kv] of state) {
      let entry = this.cache.get(key);
      if (entry === undefined || entry.modRevision !== kv.modRevision) {
        const r = decodeInstance(this.prefix, key, kv.value);
        if ('problem' in r) {
          this.logger.warn({
            code: 'WEFT_WARN_ETCD_BAD_VALUE',
            message: `${this.source}: skipped key ${key} (revision ${kv.modRevision}): ${r.problem}`,
            source: this.source,
            object: key,
          });
          entry = { modRevision: kv.modRevision, instance: undefined };
        } else entry = { modRevision: kv.modRevision, instance: r.instance };
      }
      next.set(key, entry);
      if (entry.instance !== undefined) out.push(entry.instance);
    }
    this.cache = next;
    return out.sort(byServiceThenId);
  }
}
