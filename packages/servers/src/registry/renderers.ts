/**
 * Renderers kept by what they render, so every event stream of the same read (the same filters,
 * the same service) shares one function: `serveRead` caches each state's serialised frame per
 * renderer, so a change fanned out to many watchers of one read is rendered once. Bounded: the
 * oldest renderer goes when a new read would exceed `max` (its streams keep their reference).
 */
export class Renderers<R> {
  private readonly byKey = new Map<string, R>();

  constructor(private readonly max = 256) {}

  /** The renderer for `key`, made on first use. */
  get(key: string, make: () => R): R {
    let renderer = this.byKey.get(key);
    if (renderer === undefined) {
      renderer = make();
      if (this.byKey.size >= this.max) {
        const oldest = this.byKey.keys().next();
        if (oldest.done !== true) this.byKey.delete(oldest.value);
      }
      this.byKey.set(key, renderer);
    }
    return renderer;
  }
}
