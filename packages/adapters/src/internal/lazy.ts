/**
 * A client created on first use and shared by everything an adapter object does. A creation
 * that fails (the optional client library is not installed, a kubeconfig that cannot be read) is
 * forgotten, so each caller hears of it and a later call tries again (after `npm install`, say).
 */
export class LazyClient<T> {
  private current: Promise<T> | undefined;

  constructor(private readonly create: () => Promise<T>) {}

  /** The client, created on first use. */
  get(): Promise<T> {
    if (this.current === undefined) {
      const created = this.create();
      this.current = created;
      created.catch(() => {
        if (this.current === created) this.current = undefined;
      });
    }
    return this.current;
  }

  /** Forgets the client, returning it (if one was made) for the caller to close. */
  take(): Promise<T> | undefined {
    const current = this.current;
    this.current = undefined;
    return current;
  }
}
