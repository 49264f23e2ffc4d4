/**
 * Delivers values to one listener so that deliveries never overlap and a slow listener (one that
 * returns a promise) skips intermediate values but always ends with the latest one — the
 * delivery contract of `Registry.watch`.
 */
export class LatestPump<T> {
  private pending: { value: T } | undefined;
  private busy = false;
  private closed = false;

  constructor(
    private readonly listener: (value: T) => void | Promise<void>,
    private readonly onListenerError: (error: unknown) => void,
  ) {}

  push(value: T): void {
    if (this.closed) return;
    this.pending = { value };
    if (!this.busy) void this.drain();
  }

  close(): void {
    this.closed = true;
    this.pending = undefined;
  }

  private async drain(): Promise<void> {
    this.busy = true;
    while (this.pending !== undefined && !this.closed) {
      const { value } = this.pending;
      this.pending = undefined;
      try {
        await this.listener(value);
      } catch (err) {
        this.onListenerError(err);
      }
    }
    this.busy = false;
  }
}
