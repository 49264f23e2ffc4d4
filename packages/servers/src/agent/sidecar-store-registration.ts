import { EventEmitter } from 'node:events';
import { isWeftError, type RegistrationInput, type Registry, type ServiceInstance } from '@weft/core';

/** How long to wait between failed attempts: doubling from 200 ms to 5 s. */
const backoffMs = (attempt: number): number => Math.min(5_000, 200 * 2 ** attempt);

/**
 * One registration of the app in a core `Registry` (Consul's or etcd's, through @weft/adapters),
 * with the lifecycle `RegistrationClient` gives the Weft registry, so `GatedRegistration` drives
 * either: `start()` registers, retrying with backoff while the store is away; a heartbeat
 * (`renew`) every `heartbeatMs`; a renew the store answers "unknown instance" (expired during an
 * outage, reaped by Consul, an etcd lease lost) registers again at once; `close()` stops the
 * heartbeats and deregisters, best effort. A registration the store refuses as invalid is not
 * retried: `start()` rejects.
 */
export class StoreRegistration extends EventEmitter<{
  registered: [instance: ServiceInstance];
  error: [error: Error];
}> {
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private id: string | undefined;
  private registry: Registry | undefined;

  constructor(
    /** Opens the store's client (on the first attempt; `close()` closes it). */
    private readonly open: () => Promise<Registry>,
    private readonly registration: RegistrationInput,
    private readonly heartbeatMs: number,
  ) {
    super();
  }

  /** Registers (retrying until the store has it, or `close()`); then heartbeats. */
  async start(): Promise<ServiceInstance> {
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw new Error('closed before the registration succeeded');
      try {
        this.registry ??= await this.open();
        const registry = this.registry;
        const instance = await registry.register(this.registration);
        if (this.closed) {
          // close() ran while the store answered: do not leave the instance behind.
          await registry.deregister(instance.id).catch(() => undefined);
          throw new Error('closed before the registration succeeded');
        }
        this.id = instance.id;
        this.emit('registered', instance);
        this.schedule();
        return instance;
      } catch (err) {
        if (this.closed || isWeftError(err, 'WEFT_ERR_INVALID_ARGUMENT')) throw err;
        this.emit('error', err as Error);
        await new Promise((r) => setTimeout(r, backoffMs(attempt)));
      }
    }
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => void this.heartbeat(), this.heartbeatMs);
  }

  private async heartbeat(): Promise<void> {
    const { id, registry } = this;
    if (id === undefined || registry === undefined || this.closed) return;
    try {
      await registry.renew(id);
      this.schedule();
    } catch (err) {
      this.emit('error', err as Error);
      if (!isWeftError(err, 'WEFT_ERR_UNKNOWN_INSTANCE')) {
        this.schedule();
        return;
      }
      // Gone from the store: register again (start() retries and resumes the heartbeats).
      this.id = undefined;
      await this.start().catch(() => undefined);
    }
  }

  /** Stops the heartbeats, deregisters (best effort), and closes the store's client. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    const registry = this.registry;
    if (registry === undefined) return;
    if (this.id !== undefined) await registry.deregister(this.id).catch(() => undefined);
    await registry.close();
  }
}
