import { parseOrThrow } from '@weft/core';
import * as z from 'zod/mini';

/** Most records one `POST /v1/telemetry/access-log` may carry by default (`telemetry.maxBatch`; a sidecar sends ≤ 500 a batch). */
export const MAX_BATCH_RECORDS = 2000;
/** Largest body of a default batch, bytes: 2000 records of ~1 KB. */
export const BATCH_BODY_LIMIT = 2 * 1024 * 1024;
/** Longest text of one field: a path or a header-derived trace value, not a payload. */
const MAX_FIELD_CHARS = 8192;

const text = (what: string) =>
  z
    .string({ error: `must be ${what}` })
    .check(z.maxLength(MAX_FIELD_CHARS, { error: `must be at most ${MAX_FIELD_CHARS} characters` }));
const nonNegative = (what: string) =>
  z
    .number({ error: `must be ${what}` })
    .check(z.minimum(0, { error: 'must be 0 or more' }), z.refine(Number.isFinite, { error: 'must be finite' }));

/**
 * One access-log record as a Weft proxy writes it (`@weft/proxy`'s `AccessLogRecord`: Amalgam8's
 * JSON fields plus trace ids). The fields the control plane reads are checked; the others (trace
 * keys, `rule_id`, …) are kept as sent.
 */
export const AccessLogRecordSchema = z.looseObject({
  src: text('the caller, "name:tag1,tag2"'),
  dst: text('the destination, "service:backend tags"'),
  status: z
    .int({ error: 'must be an HTTP status (a whole number)' })
    .check(
      z.minimum(0, { error: 'must be between 0 and 999' }),
      z.maximum(999, { error: 'must be between 0 and 999' }),
    ),
  timestamp_in_ms: nonNegative('the end of the call, ms since the epoch'),
  request_time: nonNegative('the duration of the call, seconds'),
  request_id: text('the request id'),
  method: z.optional(text('the HTTP method')),
  path: z.optional(text('the request path')),
  upstream_host: z.optional(text('"host:port" of the instance that answered, or "-"')),
  attempts: z.optional(z.int({ error: 'must be a whole number of attempts' })),
  error_code: z.optional(text('an error code')),
});

/** A record the control plane accepted. */
export type IngestedRecord = z.output<typeof AccessLogRecordSchema>;

/**
 * `POST /v1/telemetry/access-log`'s body, `{records: [...]}`, with at most `maxRecords` records
 * (`telemetry.maxBatch`).
 */
export function accessLogBatchSchema(maxRecords: number) {
  return z.strictObject({
    records: z.array(AccessLogRecordSchema, { error: 'must be a list of access-log records' }).check(
      z.minLength(1, { error: 'must list at least one record' }),
      z.maxLength(maxRecords, {
        error: `must list at most ${maxRecords} records (send several batches)`,
      }),
    ),
  });
}

/** `POST /v1/telemetry/access-log`'s body with the default limit: `{records: [...]}`. */
export const AccessLogBatchSchema = accessLogBatchSchema(MAX_BATCH_RECORDS);

/** Largest body of a batch of at most `maxRecords`: 2 MiB, or 1 KiB a record when that is more. */
export function batchBodyLimit(maxRecords: number): number {
  return Math.max(BATCH_BODY_LIMIT, maxRecords * 1024);
}

/**
 * Validates a batch (against `schema`, default {@link AccessLogBatchSchema}); every bad field is
 * named by its path (`records[3].status`).
 *
 * @throws InvalidArgumentError (400 `WEFT_ERR_INVALID_ARGUMENT`) listing the problems.
 */
export function parseAccessLogBatch(
  body: unknown,
  schema: ReturnType<typeof accessLogBatchSchema> = AccessLogBatchSchema,
): IngestedRecord[] {
  return parseOrThrow(schema, body, 'access-log batch').records;
}
