import {
  Amalgam8RegistrationSchema,
  EndpointTypeSchema,
  fromAmalgam8Registration,
  InstanceStatusSchema,
  InvalidArgumentError,
  Limits,
  parseOrThrow,
  type RegistrationInput,
  RegistrationSchema,
  utf8Length,
  type ValidationIssue,
} from '@weft/core';
import { Amalgam8Errors } from './errors.js';

/** A registration body read: what to register, or why not (Amalgam8's text and every problem). */
export type RegistrationVerdict =
  | { ok: true; registration: RegistrationInput }
  | { ok: false; text: string; error: InvalidArgumentError };

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Go decodes JSON null into a field as its zero value, so null means absent. */
const given = (v: unknown): boolean => v !== undefined && v !== null;
const UINT32_MAX = 4_294_967_295;
const ENDPOINT_TYPES: ReadonlySet<string> = new Set(EndpointTypeSchema.options);
const STATUSES: ReadonlySet<string> = new Set(InstanceStatusSchema.options);

/**
 * Reads the body of `POST /api/v1/instances`. It accepts what Amalgam8 accepted (statuses in any
 * case, unknown fields such as the `last_heartbeat` its own client sends, extra endpoint fields)
 * and refuses what it refused, with the `Error` text Amalgam8 gave for the first problem it
 * checked, plus every problem Weft finds, each naming its field.
 */
export function readRegistration(body: unknown): RegistrationVerdict {
  if (!isObject(body))
    return reject(Amalgam8Errors.registrationFailed, [
      { path: '', message: body === undefined ? 'is empty; send a JSON object' : 'must be a JSON object' },
    ]);
  const issues = [...decodeIssues(body), ...schemaIssues(body)];
  const text = amalgam8Text(body);
  if (issues.length > 0) return reject(text ?? Amalgam8Errors.registrationFailed, dedupe(issues));
  // Validated above; parsed again for the typed output (cheap, and keeps one path to the input).
  const parsed = parseOrThrow(Amalgam8RegistrationSchema, normalise(body), 'registration');
  return { ok: true, registration: fromAmalgam8Registration(parsed) };
}

function reject(text: string, issues: ValidationIssue[]): RegistrationVerdict {
  return { ok: false, text, error: new InvalidArgumentError('registration', issues) };
}

/**
 * What Amalgam8 accepted, in Weft's wire schema's terms: nulls dropped, the status upper-cased
 * (Amalgam8 did), the endpoint cut down to the two fields Go decoded.
 */
function normalise(body: Json): Json {
  const out: Json = {};
  for (const key of ['service_name', 'endpoint', 'ttl', 'metadata', 'tags']) if (given(body[key])) out[key] = body[key];
  // Amalgam8 upper-cased the status, and took an empty one for UP (the default).
  const status = body.status;
  if (typeof status === 'string' ? status !== '' : given(status))
    out.status = typeof status === 'string' ? status.toUpperCase() : status;
  const endpoint = body.endpoint;
  if (isObject(endpoint)) {
    const e: Json = {};
    if (given(endpoint.type)) e.type = endpoint.type;
    if (given(endpoint.value)) e.value = endpoint.value;
    out.endpoint = e;
  }
  return out;
}

/** Problems Go's decoder had that Weft's schemas let through: a TTL that is not a uint32. */
function decodeIssues(body: Json): ValidationIssue[] {
  const ttl = body.ttl;
  if (typeof ttl === 'number' && (!Number.isInteger(ttl) || ttl < 0 || ttl > UINT32_MAX))
    return [{ path: 'ttl', message: `must be a whole number of seconds from 0 to ${UINT32_MAX} (got ${ttl})` }];
  return [];
}

/**
 * Every problem Weft's schemas find: the Amalgam8 wire schema, then the registration schema the
 * registry applies (host:port endpoints, tag limits), its paths put back in Amalgam8's names.
 */
function schemaIssues(body: Json): ValidationIssue[] {
  const wire = normalise(body);
  const issues = issuesOf(() => parseOrThrow(Amalgam8RegistrationSchema, wire, 'registration'));
  const { service_name: service, ...rest } = wire;
  const weft = issuesOf(() => parseOrThrow(RegistrationSchema, { ...rest, service }, 'registration'));
  for (const issue of weft)
    issues.push(issue.path === 'service' ? { path: 'service_name', message: issue.message } : issue);
  return issues;
}

function issuesOf(parse: () => unknown): ValidationIssue[] {
  try {
    parse();
    return [];
  } catch (err) {
    if (err instanceof InvalidArgumentError) return [...err.issues];
    throw err;
  }
}

/** One issue per field: both schemas often report the same problem in their own words. */
function dedupe(issues: readonly ValidationIssue[]): ValidationIssue[] {
  const byPath = new Map<string, ValidationIssue>();
  for (const issue of issues) if (!byPath.has(issue.path)) byPath.set(issue.path, issue);
  return [...byPath.values()];
}

/**
 * The `Error` text Amalgam8 answered, or undefined when it accepted the body: its checks in its
 * order (registry/server/protocol/amalgam8/instance_handler.go, then the in-memory catalogue's
 * limits in registry/store/inmem_catalog.go). Byte limits count UTF-8 bytes, as Go's `len` did;
 * metadata is measured as compact JSON (Amalgam8 measured the raw text it was sent).
 */
function amalgam8Text(body: Json): string | undefined {
  const { service_name: name, endpoint, ttl, status, tags, metadata } = body;
  const typed =
    (!given(name) || typeof name === 'string') &&
    (!given(endpoint) || (isObject(endpoint) && stringOrAbsent(endpoint.type) && stringOrAbsent(endpoint.value))) &&
    (!given(ttl) || (typeof ttl === 'number' && Number.isInteger(ttl) && ttl >= 0 && ttl <= UINT32_MAX)) &&
    stringOrAbsent(status) &&
    (!given(tags) || (Array.isArray(tags) && tags.every((t) => t === null || typeof t === 'string')));
  if (!typed) return Amalgam8Errors.registrationFailed; // Go's decoder refused the body
  if (typeof name !== 'string' || name === '') return Amalgam8Errors.serviceNameMissing;
  if (!isObject(endpoint)) return Amalgam8Errors.endpointMissing;
  const { type, value } = endpoint;
  if (typeof type !== 'string' || type === '' || typeof value !== 'string' || value === '')
    return Amalgam8Errors.endpointIncomplete;
  if (!ENDPOINT_TYPES.has(type)) return Amalgam8Errors.endpointTypeInvalid;
  const upper = typeof status === 'string' && status !== '' ? status.toUpperCase() : 'UP';
  if (!STATUSES.has(upper)) return Amalgam8Errors.statusInvalid;
  if (utf8Length(name) > Limits.serviceNameBytes) return Amalgam8Errors.serviceNameTooLong;
  if (utf8Length(value) > Limits.endpointValueBytes) return Amalgam8Errors.endpointValueTooLong;
  if (given(metadata) && utf8Length(JSON.stringify(metadata)) > Limits.metadataJsonBytes)
    return Amalgam8Errors.metadataTooLong;
  return undefined;
}

function stringOrAbsent(v: unknown): boolean {
  return !given(v) || typeof v === 'string';
}
