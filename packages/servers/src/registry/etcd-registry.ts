import { EtcdRegistry, type EtcdRegistryOptions } from '@weft/adapters/etcd';
import type { InstanceQuery, InstanceStatus, NamespaceOption, RegistrationInput, ServiceInstance } from '@weft/core';
import { isWeftError } from '@weft/core';
import { StoreUnavailableError } from '../rules-store/errors.js';

/** After a failed etcd call, reads fail at once (served from the watch cache) for this long, ms. */
const FAIL_FAST_MS = 2_000;

/**
 * The registry a server creates on etcd: an `EtcdRegistry` with Amalgam8's heartbeat semantics
 * (`keepAlive: false` — a heartbeat through any replica renews the instance's lease), whose
 * failures to reach etcd become {@link StoreUnavailableError} (503, `WEFT_ERR_STORE_UNAVAILABLE`,
 * naming the store) instead of an anonymous 500. After such a failure, reads fail at once for a
 * moment instead of waiting for a deadline each, so the server answers them from its watches'
 * last snapshots without delay.
 */
export class ServedEtcdRegistry extends EtcdRegistry {
  private downUntil = 0;

  /** @param description - the store in messages: `etcd http://a:2379 /weft`. */
  constructor(
    options: EtcdRegistryOptions,
    readonly description: string,
  ) {
    super({ ...options, keepAlive: false });
  }

  override register(registration: RegistrationInput, options?: NamespaceOption): Promise<ServiceInstance> {
    return this.guard(() => super.register(registration, options));
  }

  override renew(id: string, options?: NamespaceOption): Promise<ServiceInstance> {
    return this.guard(() => super.renew(id, options));
  }

  override deregister(id: string, options?: NamespaceOption): Promise<ServiceInstance> {
    return this.guard(() => super.deregister(id, options));
  }

  override setStatus(id: string, status: InstanceStatus, options?: NamespaceOption): Promise<ServiceInstance> {
    return this.guard(() => super.setStatus(id, status, options));
  }

  override services(options?: NamespaceOption): Promise<string[]> {
    return this.guard(() => super.services(options), true);
  }

  override instances(query?: InstanceQuery): Promise<ServiceInstance[]> {
    return this.guard(() => super.instances(query), true);
  }

  private async guard<T>(call: () => Promise<T>, read = false): Promise<T> {
    if (read && Date.now() < this.downUntil)
      throw new StoreUnavailableError(
        this.description,
        new Error('etcd did not answer a moment ago'),
        'registry store',
      );
    try {
      const result = await call();
      this.downUntil = 0;
      return result;
    } catch (err) {
      // Weft's own errors (unknown instance, bad input, closed) are answers, not outages.
      if (isWeftError(err)) throw err;
      this.downUntil = Date.now() + FAIL_FAST_MS;
      throw new StoreUnavailableError(this.description, err, 'registry store');
    }
  }
}
