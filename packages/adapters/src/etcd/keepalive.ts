import type { Clock } from '@weft/core';
import type { IDuplexStream, ILeaseKeepAliveRequest, ILeaseKeepAliveResponse } from 'etcd3';
import type { EtcdClientHolder } from './client.js';

type Stream = IDuplexStream<ILeaseKeepAliveRequest, ILeaseKeepAliveResponse>;

/**
 * One LeaseKeepAlive stream shared by every lease of a registry, opened on first use and again
 * after any failure. `send()` is fire-and-forget (the answers go to `onAnswer`); `once()` waits
 * for the answer to one keep-alive. An answer with TTL ≤ 0 means the lease no longer exists.
 */
export class KeepAliveChannel {
  private stream: Promise<Stream> | undefined;
  private readonly waiters = new Map<string, Array<(ttl: number) => void>>();
  private closed = false;

  constructor(
    private readonly holder: EtcdClientHolder,
    private readonly onAnswer: (leaseId: string, ttl: number) => void,
    private readonly clock: Clock,
  ) {}

  /** Sends one keep-alive for `leaseId`; failures only drop the stream (the caller's TTL clock notices). */
  send(leaseId: string): void {
    void this.open()
      .then((s) => s.write({ ID: leaseId }))
      .catch(() => this.drop());
  }

  /** Sends one keep-alive and resolves with the TTL the server answers (≤ 0: the lease is gone). */
  once(leaseId: string, timeoutMs: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        remove();
        this.drop(); // a keep-alive stream that does not answer is not trusted any more
        reject(new Error(`no answer to a keep-alive of lease ${leaseId} within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (ttl: number): void => {
        timer.clear();
        resolve(ttl);
      };
      const remove = (): void => {
        const list = this.waiters.get(leaseId)?.filter((w) => w !== waiter) ?? [];
        if (list.length === 0) this.waiters.delete(leaseId);
        else this.waiters.set(leaseId, list);
      };
      this.waiters.set(leaseId, [...(this.waiters.get(leaseId) ?? []), waiter]);
      this.send(leaseId);
    });
  }

  /** Closes the current stream; the next send opens a new one (e.g. when it stopped answering). */
  drop(): void {
    const s = this.stream;
    this.stream = undefined;
    void s
      ?.then((stream) => {
        stream.end();
        stream.cancel();
      })
      .catch(() => {});
  }

  close(): void {
    this.closed = true;
    this.drop();
  }

  private open(): Promise<Stream> {
    if (this.closed) return Promise.reject(new Error('closed'));
    if (this.stream !== undefined) return this.stream;
    const opening = this.holder.get().then(async (client) => {
      const stream = await client.leaseClient.leaseKeepAlive();
      const lost = (): void => {
        if (this.stream === opening) this.stream = undefined;
      };
      // A broken stream needs no report of its own: the leases it carried go unconfirmed, and
      // the registry's TTL check reports them lost (WEFT_WARN_ETCD_LEASE_LOST) if they stay so.
      stream.on('error', lost);
      stream.on('end', lost);
      stream.on('data', (res) => {
        const ttl = Number(res.TTL);
        const waiting = this.waiters.get(res.ID);
        if (waiting !== undefined) {
          this.waiters.delete(res.ID);
          for (const w of waiting) w(ttl);
        }
        this.onAnswer(res.ID, ttl);
      });
      return stream;
    });
    this.stream = opening;
    opening.catch(() => {
      if (this.stream === opening) this.stream = undefined;
    });
    return opening;
  }
}
