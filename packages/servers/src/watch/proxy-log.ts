import type { FastifyRequest } from 'fastify';

/** The request header a proxy names itself in (`@weft/adapters`' sources send `<hostname>:<pid>` by default). */
export const PROXY_HEADER = 'x-weft-proxy';

/** How a proxy follows a read: an open event stream, long-polls, or plain reads. */
export type ProxyTransport = 'sse' | 'long-poll' | 'poll';

/** One proxy's read, as `GET /v1/proxies` (and `/api/v1/proxies`) lists it. */
export interface ProxyView {
  readonly name: string;
  /** The path it reads (`/v1/rules`). */
  readonly watches: string;
  readonly transport: ProxyTransport;
  /** The revision last sent to it. */
  readonly revision: number;
  readonly current_revision: number;
  /** Revisions it lacks (0 when up to date). */
  readonly behind: number;
  /** How long it has lacked the current revision, ms (0 when up to date): a change takes ms to reach a follower. */
  readonly behind_for_ms: number;
  /** Whether its event stream is open. */
  readonly connected: boolean;
  /** ISO time of its last request or of the last state sent to it. */
  readonly last_seen: string;
  /** Since then, ms (the server's clock: callers need not trust theirs). */
  readonly idle_ms: number;
  readonly address: string;
}

/** What serveRead tells the log about one request of a proxy. */
export interface ProxyWatch {
  /** A state went to the proxy. */
  sent(revision: number): void;
  /** The request ended (its stream closed). */
  end(): void;
}

interface Entry {
  readonly namespace: string;
  readonly name: string;
  readonly watches: string;
  transport: ProxyTransport;
  revision: number;
  lastSeen: number;
  /** When a long-poll or stream last came: a plain read in between (a reconnect's) does not make it a poller. */
  lastWatchAt: number;
  openStreams: number;
  address: string;
}

/** Options of {@link ProxyLog}. */
export interface ProxyLogOptions {
  /** Entries kept, oldest evicted first. Default 10 000. */
  readonly maxEntries?: number;
  /** How long a proxy without an open stream stays listed after its last request, ms. Default 10 min. */
  readonly seenForMs?: number;
  readonly now?: () => number;
}

/** Revision times kept per namespace (enough to date how long a proxy has been behind). */
const REVISIONS_KEPT = 64;

/**
 * The proxies that read a server, per namespace: which read, over which transport, and the
 * revision last sent to each, so an operator can tell which of them are behind. Bounded: a fleet
 * that churns names (a pid in each) cannot grow it past `maxEntries`.
 */
export class ProxyLog {
  private readonly entries = new Map<string, Entry>();
  /** First time each recent revision was seen, per namespace, ascending. */
  private readonly revisions = new Map<string, { revision: number; at: number }[]>();
  private readonly maxEntries: number;
  private readonly seenForMs: number;
  private readonly now: () => number;

  constructor(options: ProxyLogOptions = {}) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.seenForMs = options.seenForMs ?? 600_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * Starts recording one request in `namespace`, when it names its proxy (else undefined: reads
   * by operators and scripts are not proxies).
   */
  watch(request: FastifyRequest, namespace: string, transport: ProxyTransport): ProxyWatch | undefined {
    const header = request.headers[PROXY_HEADER];
    const name = (Array.isArray(header) ? header[0] : header)?.trim().slice(0, 253);
    if (name === undefined || name === '') return undefined;
    const watches = request.url.split('?')[0] ?? request.url;
    const entry = this.touch(namespace, name, watches, request.ip);
    const at = this.now();
    if (transport !== 'poll') {
      entry.transport = transport;
      entry.lastWatchAt = at;
    } else if (entry.openStreams === 0 && at - entry.lastWatchAt > this.seenForMs) entry.transport = 'poll';
    if (transport === 'sse') entry.openStreams++;
    let open = transport === 'sse';
    return {
      sent: (revision) => {
        entry.revision = revision;
        entry.lastSeen = this.now();
        this.noteRevision(namespace, revision);
      },
      end: () => {
        entry.lastSeen = this.now();
        if (open) entry.openStreams--;
        open = false;
      },
    };
  }

  /** Records that `namespace` is at `revision` (dates the revision for `behind_for_ms`). */
  noteRevision(namespace: string, revision: number): void {
    let list = this.revisions.get(namespace);
    if (list === undefined) {
      list = [];
      this.revisions.set(namespace, list);
      if (this.revisions.size > this.maxEntries) this.revisions.delete(this.revisions.keys().next().value as string);
    }
    const last = list[list.length - 1];
    if (last !== undefined && revision <= last.revision) return;
    list.push({ revision, at: this.now() });
    if (list.length > REVISIONS_KEPT) list.shift();
  }

  /** The proxies of `namespace` seen recently (or connected), given its revision now. */
  list(namespace: string, currentRevision: number): ProxyView[] {
    this.noteRevision(namespace, currentRevision);
    const now = this.now();
    const out: ProxyView[] = [];
    for (const e of this.entries.values()) {
      if (e.namespace !== namespace) continue;
      if (e.openStreams === 0 && now - e.lastSeen > this.seenForMs) continue;
      const behind = Math.max(0, currentRevision - e.revision);
      out.push({
        name: e.name,
        watches: e.watches,
        transport: e.openStreams > 0 ? 'sse' : e.transport,
        revision: e.revision,
        current_revision: currentRevision,
        behind,
        behind_for_ms: behind === 0 ? 0 : now - this.missingSince(namespace, e.revision, now),
        connected: e.openStreams > 0,
        last_seen: new Date(e.lastSeen).toISOString(),
        idle_ms: now - e.lastSeen,
        address: e.address,
      });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name) || a.watches.localeCompare(b.watches));
  }

  /** When the first revision after `revision` appeared (the oldest one known if it is older than that). */
  private missingSince(namespace: string, revision: number, now: number): number {
    return this.revisions.get(namespace)?.find((r) => r.revision > revision)?.at ?? now;
  }

  private touch(namespace: string, name: string, watches: string, address: string): Entry {
    // JSON: no separator a name could contain can make two keys collide.
    const key = JSON.stringify([namespace, name, watches]);
    const now = this.now();
    let entry = this.entries.get(key);
    if (entry !== undefined)
      this.entries.delete(key); // re-inserted last: the Map's order is recency
    else
      entry = {
        namespace,
        name,
        watches,
        transport: 'poll',
        revision: 0,
        lastSeen: now,
        lastWatchAt: 0,
        openStreams: 0,
        address,
      };
    entry.lastSeen = now;
    entry.address = address;
    this.entries.set(key, entry);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    return entry;
  }
}
