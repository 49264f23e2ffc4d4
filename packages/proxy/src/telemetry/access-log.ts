import type { DestinationStream, Logger } from 'pino';

type Pino = typeof import('pino');
let pinoLoading: Promise<Pino> | undefined;
/**
 * pino, imported on first use: a process that logs no access records (or logs through its own
 * logger) never evaluates it (~8 MB of resident memory in a sidecar). A dynamic `import()`
 * rather than a lazy `require`, so bundlers still include it (evaluated only when imported).
 */
function loadPino(): Promise<Pino> {
  pinoLoading ??= import('pino').then((m) => ((m as { default?: Pino }).default ?? m) as Pino);
  return pinoLoading;
}

/**
 * One access-log record per call, with Amalgam8's field names (its sidecar's JSON log) plus the
 * W3C trace ids and the attempt count.
 */
export interface AccessLogRecord {
  /** Caller, `"name:tag1,tag2"`. */
  src: string;
  /** Destination, `"service:tags of the chosen backend"`. */
  dst: string;
  /** Status sent to the caller (an error's status when the call failed). */
  status: number;
  /** Call start, ISO 8601. */
  start_time: string;
  /** Seconds from the call's start to its end. */
  request_time: number;
  /** Seconds from the last attempt's start to its response headers (`-` when none). */
  upstream_response_time: number | null;
  /** Call end, ms since the epoch. */
  timestamp_in_ms: number;
  method: string;
  path: string;
  request_id: string;
  /** `host:port` of the instance that answered (`-` when none did). */
  upstream_host: string;
  /** Attempts made (1 when no retry). */
  attempts: number;
  /** W3C trace id (32 hex) and span id (16 hex) of the call. */
  trace_id?: string;
  span_id?: string;
  /** The id of the route rule that matched, if any. */
  rule_id?: string;
  /** An error code, when the call failed. */
  error_code?: string;
  /**
   * When the call failed: how, in core's outcome words (`rate-limited`, `rejected`, `timeout`,
   * `connect-failure`, `reset`, `error`, or a status).
   */
  outcome?: string;
  /** Amalgam8's trace action: the key and value of a matching `trace` action. */
  [traceKey: string]: unknown;
}

/** Where access-log records go. */
export interface AccessLogSink {
  write(record: AccessLogRecord): void;
  /** Flushes buffered records (called on close and on sidecar shutdown, so no log is lost on exit). */
  flush?(): Promise<void>;
}

/** Options of {@link pinoAccessLog}. */
export interface PinoAccessLogOptions {
  /** A pino logger to log through (a child with `{log: 'access'}` is made). */
  logger?: Logger;
  /** Where a new logger writes (default stdout, asynchronously through `pino.destination`). */
  destination?: DestinationStream | string | number;
}

/** Records written before pino finished loading are kept, up to this many. */
const EARLY_RECORDS_MAX = 10_000;

type Destination = DestinationStream & { flush?: (cb?: (err?: Error) => void) => void };

/**
 * The default sink: one JSON line per call through pino (asynchronous destination, flushed on
 * close), at level `info`. With a `logger` it logs at once; otherwise pino is imported on the
 * first call of this function, and the few records written before it is ready are queued.
 */
export function pinoAccessLog(options: PinoAccessLogOptions = {}): AccessLogSink {
  let child: Logger | undefined;
  let dest: Destination | undefined;
  let logger = options.logger;
  let early: AccessLogRecord[] | undefined;
  let ready: Promise<void> | undefined;
  if (logger !== undefined) child = logger.child({ log: 'access' });
  else {
    early = [];
    ready = loadPino().then((pino) => {
      const d = options.destination;
      dest =
        d !== undefined && typeof d === 'object'
          ? d
          : pino.destination({
              dest: typeof d === 'string' || typeof d === 'number' ? d : 1,
              sync: false,
              minLength: 4096,
            });
      logger = pino.pino({ base: null, timestamp: false, messageKey: 'msg' }, dest);
      const c = logger.child({ log: 'access' });
      for (const r of early ?? []) c.info(r);
      early = undefined;
      child = c;
    });
  }
  return {
    write(record) {
      if (child !== undefined) child.info(record);
      else if (early !== undefined && early.length < EARLY_RECORDS_MAX) early.push(record);
    },
    async flush() {
      await ready;
      await new Promise<void>((resolve) => {
        if (dest?.flush !== undefined) dest.flush(() => resolve());
        else if (typeof (logger as { flush?: unknown } | undefined)?.flush === 'function')
          (logger as unknown as { flush(cb: () => void): void }).flush(() => resolve());
        else resolve();
      });
    },
  };
}

/** A sink that keeps records in memory (tests, `/debug` pages). */
export class MemoryAccessLog implements AccessLogSink {
  readonly records: AccessLogRecord[] = [];
  constructor(private readonly max = 10_000) {}
  write(record: AccessLogRecord): void {
    if (this.records.length >= this.max) this.records.shift();
    this.records.push(record);
  }
}
