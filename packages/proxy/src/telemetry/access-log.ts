import { createRequire } from 'node:module';
import type { DestinationStream, Logger } from 'pino';

type Pino = typeof import('pino');
let pinoModule: Pino | undefined;
/**
 * pino, loaded on first use: a process that logs no access records (or logs through its own
 * logger) never pays for it (~8 MB of resident memory in a sidecar).
 */
function loadPino(): Pino {
  pinoModule ??= createRequire(import.meta.url)('pino') as Pino;
  return pinoModule;
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

/**
 * The default sink: one JSON line per call through pino (asynchronous destination, flushed on
 * close), at level `info`.
 */
export function pinoAccessLog(options: PinoAccessLogOptions = {}): AccessLogSink {
  let dest: (DestinationStream & { flushSync?: () => void; flush?: (cb?: (err?: Error) => void) => void }) | undefined;
  let logger = options.logger;
  if (logger === undefined) {
    const d = options.destination;
    dest =
      d !== undefined && typeof d === 'object'
        ? d
        : loadPino().destination({
            dest: typeof d === 'string' || typeof d === 'number' ? d : 1,
            sync: false,
            minLength: 4096,
          });
    logger = loadPino().pino({ base: null, timestamp: false, messageKey: 'msg' }, dest);
  }
  const child = logger.child({ log: 'access' });
  return {
    write(record) {
      child.info(record);
    },
    flush() {
      return new Promise<void>((resolve) => {
        if (dest?.flush !== undefined) dest.flush(() => resolve());
        else if (typeof (logger as { flush?: unknown }).flush === 'function')
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
