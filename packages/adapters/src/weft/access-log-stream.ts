import type { BackoffOptions, ValidationIssue } from '@weft/core';
import { BackoffState } from '../internal/backoff.js';
import { type ControlPlaneConnectionOptions, checkMs, resolveConnection, throwIfIssues } from './connection-options.js';
import { hasStatus } from './errors.js';
import { ControlPlaneHttp } from './http.js';
import { isReplicaFault, Replicas } from './replicas.js';

/**
 * One access-log record as a Weft proxy writes it (`@weft/proxy`'s `AccessLogRecord`: `src`,
 * `dst`, `status`, `timestamp_in_ms`, `request_time`, `request_id`, …). Typed loosely here so this
 * package needs no proxy: a `MeshAgent`'s or `Sidecar`'s records are accepted as they are.
 */
export type StreamedRecord = Readonly<Record<string, unknown>>;

/** Where records go next (another access-log sink: pino's JSON log, a `RecentAccessLog`…). */
export interface AccessLogForward {
  write(record: StreamedRecord): void;
  flush?(): Promise<void>;
}

/** Options of {@link AccessLogStream}. */
export interface AccessLogStreamOptions extends ControlPlaneConnectionOptions {
  /** A batch leaves at least this often while records wait, ms. Default 1000. */
  intervalMs?: number;
  /** Records per batch at most (≤ 2000, what the server takes); a full batch leaves at once. Default 500. */
  maxBatch?: number;
  /** Records waiting at most; beyond, new records are dropped (counted). Default 10 000. */
  maxQueue?: number;
  /** Deadline of one POST, ms. Default 5000. */
  sendTimeoutMs?: number;
  /** Pause after a whole round of replicas failed. Default 250 ms doubling to 30 s, full jitter. */
  backoff?: BackoffOptions;
  /**
   * Told when streaming starts failing, recovers, or a batch is refused (once per change, never
   * per record). Default: a process warning (`WeftAccessLogStreamWarning`).
   */
  onWarning?: (message: string) => void;
}

/** Why records were dropped instead of reaching the control plane. */
export type StreamDropReason = 'queue_full' | 'rejected' | 'unsupported' | 'closed';

/** What {@link AccessLogStream.stats} counts. */
export interface AccessLogStreamStats {
  /** Records the control plane accepted. */
  readonly sent: number;
  /** Batches it accepted. */
  readonly batches: number;
  /** POSTs that got no answer or a 5xx / 429 (their records were kept for the next try). */
  readonly failures: number;
  /** Records waiting now. */
  readonly queued: number;
  /**
   * Records given up: `queue_full` (the queue was at `maxQueue`: the control plane is away or
   * slow), `rejected` (a 4xx: bad credentials, an invalid record), `unsupported` (the server has
   * no `/v1/telemetry/access-log`, e.g. Amalgam8's controller), `closed` (written after close, or
   * still queued when it ended).
   */
  readonly dropped: Readonly<Record<StreamDropReason, number>>;
}

/** The path records are posted to. */
export const ACCESS_LOG_STREAM_PATH = '/v1/telemetry/access-log';
/** Most records the control plane takes in one batch. */
const MAX_BATCH = 2000;
/** A server without the path is asked again this long after, ms (it may be upgraded meanwhile). */
const UNSUPPORTED_PAUSE_MS = 60_000;
/** How long `flush()` may wait for the queue to drain, ms (a stopping sidecar must not hang). */
const FLUSH_DEADLINE_MS = 2000;

/** Waits for `work`, or until `deadline` (ms since the epoch), whichever comes first. */
function raceDeadline(work: Promise<void>, deadline: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/**
 * An access-log sink that streams records to Weft's control plane (`POST /v1/telemetry/access-log`),
 * where the recipe runner and the dashboard read them — no log shipper. `write` only appends to a
 * bounded queue and returns: the data path never waits on the control plane. Batches leave every
 * `intervalMs`, or at once when `maxBatch` records wait; a failed batch (no answer, 5xx, 429) is
 * kept and retried on the next replica, with a backoff once every replica failed in a row, as the
 * other control-plane clients do. When the queue is full, new records are dropped and counted
 * ({@link AccessLogStream.stats}).
 *
 * Give it to a `MeshAgent` (or a `Sidecar`) as its `accessLog`, alone or in a chain:
 *
 * @example
 * ```ts
 * import { AccessLogStream } from '@weft/adapters/weft';
 * import { Discovery, MemoryRegistry } from '@weft/core';
 * import { MeshAgent, pinoAccessLog } from '@weft/proxy';
 *
 * const discovery = new Discovery({ sources: [new MemoryRegistry().asSource()] });
 * const stream = new AccessLogStream({ url: 'http://127.0.0.1:8080', token: process.env.WEFT_TOKEN });
 * const mesh = new MeshAgent({
 *   discovery,
 *   identity: { name: 'ratings', tags: ['version=v1'] },
 *   accessLog: stream.forwardTo(pinoAccessLog()), // streamed, and logged on stdout too
 * });
 * // …
 * await mesh.close();
 * await stream.close(); // sends what is queued (within 2 s), then closes its sockets
 * ```
 */
export class AccessLogStream implements AccessLogForward {
  private readonly http: ControlPlaneHttp;
  private readonly replicas: Replicas;
  private readonly backoff: BackoffState;
  private readonly intervalMs: number;
  private readonly maxBatch: number;
  private readonly maxQueue: number;
  private readonly sendTimeoutMs: number;
  private readonly warn: (message: string) => void;
  private queue: StreamedRecord[] = [];
  private inflight: Promise<void> | undefined;
  private pumpScheduled = false;
  private pausedUntil = 0;
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  private failing = false;
  private lastRefusal = '';
  private next: AccessLogForward | undefined;
  private sent = 0;
  private batches = 0;
  private failures = 0;
  private readonly dropped: Record<StreamDropReason, number> = {
    queue_full: 0,
    rejected: 0,
    unsupported: 0,
    closed: 0,
  };

  /** @throws InvalidArgumentError naming each bad option. */
  constructor(options: AccessLogStreamOptions) {
    const issues: ValidationIssue[] = [];
    const connection = resolveConnection(options, issues);
    checkMs(issues, 'intervalMs', options.intervalMs);
    checkMs(issues, 'sendTimeoutMs', options.sendTimeoutMs);
    for (const name of ['maxBatch', 'maxQueue'] as const) {
      const n = options[name];
      if (n !== undefined && (!Number.isSafeInteger(n) || n < 1))
        issues.push({ path: name, message: `must be a whole number of 1 or more (got ${String(n)})` });
    }
    if (options.maxBatch !== undefined && options.maxBatch > MAX_BATCH)
      issues.push({
        path: 'maxBatch',
        message: `must be at most ${MAX_BATCH}, what the control plane takes in one batch`,
      });
    throwIfIssues('access-log stream options', issues);
    this.http = new ControlPlaneHttp(connection);
    this.replicas = new Replicas(connection.bases);
    this.backoff = new BackoffState({ baseMs: 250, maxMs: 30_000, jitter: 'full', ...options.backoff });
    this.intervalMs = options.intervalMs ?? 1000;
    this.maxBatch = options.maxBatch ?? 500;
    this.maxQueue = options.maxQueue ?? 10_000;
    this.sendTimeoutMs = options.sendTimeoutMs ?? 5000;
    this.warn = options.onWarning ?? ((m) => process.emitWarning(m, 'WeftAccessLogStreamWarning'));
    this.timer = setInterval(() => this.pump(), this.intervalMs);
    // A stream never keeps a process alive.
    this.timer.unref();
  }

  /** Passes every record on to `sink` too (or stops, with undefined). Returns this, for `accessLog: stream.forwardTo(…)`. */
  forwardTo(sink: AccessLogForward | undefined): this {
    this.next = sink;
    return this;
  }

  /** Queues a record (O(1), never waits); drops it, counted, when the queue is full or the stream closed. */
  write(record: StreamedRecord): void {
    this.next?.write(record);
    if (this.closed) {
      this.dropped.closed++;
      return;
    }
    if (this.queue.length >= this.maxQueue) {
      this.dropped.queue_full++;
      return;
    }
    this.queue.push(record);
    if (this.queue.length >= this.maxBatch && !this.pumpScheduled && this.inflight === undefined) {
      this.pumpScheduled = true;
      setImmediate(() => {
        this.pumpScheduled = false;
        this.pump();
      });
    }
  }

  /** The counts so far. */
  stats(): AccessLogStreamStats {
    return {
      sent: this.sent,
      batches: this.batches,
      failures: this.failures,
      queued: this.queue.length,
      dropped: { ...this.dropped },
    };
  }

  /**
   * Sends what is queued now, waiting at most 2 s (and not at all while the control plane is
   * backed off from), then flushes the next sink.
   */
  async flush(): Promise<void> {
    const deadline = Date.now() + FLUSH_DEADLINE_MS;
    while (Date.now() < deadline) {
      if (this.inflight !== undefined) await raceDeadline(this.inflight, deadline);
      else if (this.queue.length === 0 || Date.now() < this.pausedUntil) break;
      else this.pump();
    }
    await this.next?.flush?.();
  }

  /** Stops streaming: sends what is queued (see {@link flush}), counts the rest as dropped, closes the sockets. */
  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    await this.flush();
    this.closed = true;
    // Closing the sockets ends a batch still in flight (its records are counted as dropped).
    await this.http.close();
    await this.inflight;
    this.dropped.closed += this.queue.length;
    this.queue = [];
  }

  /** Sends one batch, unless one is in flight, none waits, or the stream backs off. */
  private pump(): void {
    if (this.inflight !== undefined || this.queue.length === 0 || Date.now() < this.pausedUntil) return;
    const batch = this.queue.splice(0, this.maxBatch);
    this.inflight = this.send(batch).finally(() => {
      this.inflight = undefined;
      // More than a batch waited: the next leaves at once.
      if (this.queue.length >= this.maxBatch && !this.closed) this.pump();
    });
  }

  private async send(batch: StreamedRecord[]): Promise<void> {
    try {
      await this.http.json({
        method: 'POST',
        path: ACCESS_LOG_STREAM_PATH,
        base: this.replicas.current,
        json: { records: batch },
        deadlineMs: this.sendTimeoutMs,
      });
      this.sent += batch.length;
      this.batches++;
      this.replicas.succeeded();
      this.backoff.reset();
      if (this.failing) this.warn(`streaming access-log records to ${this.replicas.label} again`);
      this.failing = false;
      this.lastRefusal = '';
    } catch (err) {
      this.refused(err, batch);
    }
  }

  private refused(err: unknown, batch: StreamedRecord[]): void {
    if (this.closed) {
      this.dropped.closed += batch.length;
      return;
    }
    const message = err instanceof Error ? err.message : String(err);
    if (isReplicaFault(err)) {
      this.failures++;
      // Kept for the next try, ahead of newer records, within the bound.
      const room = Math.max(0, this.maxQueue - this.queue.length);
      if (room < batch.length) this.dropped.queue_full += batch.length - room;
      this.queue = batch.slice(0, room).concat(this.queue);
      const replica = this.replicas.label;
      if (this.replicas.failover()) this.pausedUntil = Date.now() + this.backoff.next();
      if (!this.failing)
        this.warn(
          `streaming access-log records to ${replica} failed (${message}); retrying, records wait (at most ${this.maxQueue})`,
        );
      this.failing = true;
      return;
    }
    const unsupported = hasStatus(err, 404, 405);
    this.dropped[unsupported ? 'unsupported' : 'rejected'] += batch.length;
    if (unsupported) this.pausedUntil = Date.now() + UNSUPPORTED_PAUSE_MS;
    const said = unsupported
      ? `${this.replicas.label} does not take access-log records (${message}): records are dropped; asking again in ${UNSUPPORTED_PAUSE_MS / 1000} s`
      : `${this.replicas.label} refused a batch of access-log records (${message}): the batch is dropped`;
    if (said !== this.lastRefusal) this.warn(said);
    this.lastRefusal = said;
  }
}
