import type { Versioned, Watchable } from '../watch/types.js';
import type { IngestedRecord } from './access-log-batch.js';

/** A caller or callee as a record names it: `"reviews:version=v2"` → `reviews`, `['version=v2']`. */
export interface Party {
  readonly service: string;
  readonly tags: readonly string[];
}

/** `"name:tag1,tag2"` as a {@link Party}. */
export function parseParty(text: string): Party {
  const colon = text.indexOf(':');
  if (colon === -1) return { service: text, tags: [] };
  return {
    service: text.slice(0, colon),
    tags: text
      .slice(colon + 1)
      .split(',')
      .filter((t) => t !== ''),
  };
}

/** A record held by the control plane, its fields parsed once for the aggregations. */
export interface HeldRecord {
  /** Its place in the namespace's stream: grows by one per record accepted. */
  readonly seq: number;
  readonly record: IngestedRecord;
  readonly src: Party;
  readonly dst: Party;
}

/** What one reading of the ring sees: the ring, and the newest record it may show. */
export interface RingView {
  readonly ring: AccessLogRing;
  /** The seq of the newest record visible (records written later are left out, so a body matches its index). */
  readonly upTo: number;
}

/** Default records kept per namespace (~1 KB each). */
export const RING_CAPACITY = 10_000;

/**
 * One namespace's recent access-log records, as the sidecars and agents streamed them: a bounded
 * ring (the oldest pushed out, counted in `evicted`), each record numbered by `seq`. Watchable: its
 * revision is the newest seq, and watchers hear of new records at most every `notifyEveryMs`
 * (aggregations such as the topology are recomputed per notification, not per batch).
 */
export class AccessLogRing implements Watchable<RingView> {
  private readonly slots: (HeldRecord | undefined)[];
  private start = 0;
  private count = 0;
  private lastSeq = 0;
  private evictedCount = 0;
  private readonly listeners = new Set<{
    listener: (state: Versioned<RingView>) => void;
    onEnd: ((reason: unknown) => void) | undefined;
  }>();
  private timer: NodeJS.Timeout | undefined;
  private state: Versioned<RingView> = { revision: 0, value: { ring: this, upTo: 0 } };
  /** When a record was last written, ms (least recently written namespaces are dropped first). */
  lastWriteAt = 0;

  constructor(
    readonly capacity = RING_CAPACITY,
    private readonly notifyEveryMs = 250,
    /** The namespace it holds (renderers shared by every namespace read it: the topology's registry merge). */
    readonly namespace = '',
  ) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
    this.slots = new Array(capacity);
  }

  /** Records held now. */
  get size(): number {
    return this.count;
  }

  /** Records pushed out by newer ones. */
  get evicted(): number {
    return this.evictedCount;
  }

  /** The seq of the newest record (0 when none came). */
  get seq(): number {
    return this.lastSeq;
  }

  /** Appends records; returns how many older ones they pushed out. */
  append(records: readonly IngestedRecord[]): number {
    let evicted = 0;
    for (const record of records) {
      const held: HeldRecord = {
        seq: ++this.lastSeq,
        record,
        src: parseParty(record.src),
        dst: parseParty(record.dst),
      };
      const end = (this.start + this.count) % this.capacity;
      this.slots[end] = held;
      if (this.count < this.capacity) this.count++;
      else {
        this.start = (this.start + 1) % this.capacity;
        evicted++;
      }
    }
    this.evictedCount += evicted;
    this.lastWriteAt = Date.now();
    this.schedule();
    return evicted;
  }

  /** Every held record with seq ≤ `upTo`, oldest first. */
  *records(upTo = this.lastSeq): Generator<HeldRecord> {
    for (let i = 0; i < this.count; i++) {
      const held = this.slots[(this.start + i) % this.capacity] as HeldRecord;
      if (held.seq > upTo) return;
      yield held;
    }
  }

  /** `timestamp_in_ms` of the oldest record held, or null. */
  oldestMs(): number | null {
    return this.count === 0 ? null : ((this.slots[this.start] as HeldRecord).record.timestamp_in_ms ?? null);
  }

  current(): Promise<Versioned<RingView>> {
    return Promise.resolve(this.snapshot());
  }

  subscribe(listener: (state: Versioned<RingView>) => void, onEnd?: (reason: unknown) => void): () => void {
    const entry = { listener, onEnd };
    this.listeners.add(entry);
    listener(this.snapshot());
    return () => {
      this.listeners.delete(entry);
    };
  }

  /** Ends every watch (the server closes, or the namespace's ring is dropped). */
  end(reason: unknown): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const ending = [...this.listeners];
    this.listeners.clear();
    for (const { onEnd } of ending) onEnd?.(reason);
  }

  /** One state object per seq, shared by every watcher (serveRead renders a state once for all). */
  private snapshot(): Versioned<RingView> {
    if (this.state.revision !== this.lastSeq)
      this.state = { revision: this.lastSeq, value: { ring: this, upTo: this.lastSeq } };
    return this.state;
  }

  private schedule(): void {
    if (this.timer !== undefined || this.listeners.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const state = this.snapshot();
      for (const { listener } of [...this.listeners]) listener(state);
    }, this.notifyEveryMs);
    this.timer.unref();
  }
}
