import { InvalidArgumentError, isWeftError } from '@weft/core';
import { StoreUnavailableError } from '../rules-store/errors.js';

/**
 * The `Error` texts of Amalgam8's registry, as its i18n layer rendered them from
 * registry/messages/en-US.json (recorded from the server itself, see
 * test/servers-registry/amalgam8). Weft's error bodies keep this field, byte for byte, next to
 * its own (`code`, `status`, `message`, `issues`), so tools that matched Amalgam8's texts still do.
 */
export const Amalgam8Errors = {
  registrationFailed: 'Failed to register instance',
  serviceNameMissing: 'Service name is required',
  endpointMissing: 'Instance endpoint is required',
  endpointIncomplete: 'Endpoint type or value are missing',
  endpointTypeInvalid: 'Endpoint type is invalid',
  statusInvalid: 'Valid statuses are: UP, STARTING, OUT_OF_SERVICE',
  // These two message ids had no translation in en-US.json, so Amalgam8 sent the ids themselves.
  serviceNameTooLong: 'error_service_name_too_long',
  metadataTooLong: 'error_meta_data_too_long',
  endpointValueTooLong: 'Failed to register the instance because endpoint value exceeded 128 bytes',
  heartbeatFailed: 'Failed to renew instance registration',
  deregistrationFailed: 'Failed to deregister instance',
  serviceEnumeration: 'Failed to enumerate service names',
  instanceEnumeration: 'Failed to enumerate instances',
  badFields: 'Undefined or malformed instance fields in filter',
  badCriteria: 'Malformed or invalid instance selection criteria',
  notFound: 'Resource not found',
  methodNotAllowed: 'Method not allowed',
  badContentType: "Bad Content-Type or charset, expected 'application/json'",
  internal: 'Internal server error',
  /** Weft's status endpoint has no Amalgam8 counterpart; the text follows its pattern. */
  statusUpdateFailed: 'Failed to update instance status',
} as const;

/**
 * Codes of the registry server's own failures, next to core's catalogue (`ErrorCodes`), for what
 * only HTTP can get wrong.
 */
export const WireCodes = {
  /** No route for the path (404). */
  notFound: 'WEFT_ERR_NOT_FOUND',
  /** A route for the path, not for the method (405). */
  methodNotAllowed: 'WEFT_ERR_METHOD_NOT_ALLOWED',
  /** A body that is not `application/json` in UTF-8 (415). */
  unsupportedMediaType: 'WEFT_ERR_UNSUPPORTED_MEDIA_TYPE',
  /** A body over the size limit (413). */
  payloadTooLarge: 'WEFT_ERR_PAYLOAD_TOO_LARGE',
  /** Anything else: a bug or a store failure, logged with its cause (500). */
  internal: 'WEFT_ERR_INTERNAL',
} as const;

/** An error answer: Amalgam8's `Error` first, then Weft's coded fields. */
export interface ErrorBody {
  Error: string;
  code: string;
  status: number;
  message: string;
  issues?: readonly { path: string; message: string }[];
}

/** A failure as an HTTP status and body, with Amalgam8's text for the operation that failed. */
export interface Failure {
  status: number;
  body: ErrorBody;
}

/**
 * The answer to a core error: its catalogued status (410 unknown instance, 403 capacity, 400
 * invalid, 503 closed…) and body. Anything that is not a Weft error is rethrown, for the error
 * handler to log and answer 500.
 */
export function failureOf(text: string, error: unknown): Failure {
  // A shared store (etcd) out of reach: 503 naming the store, not an anonymous 500.
  if (error instanceof StoreUnavailableError)
    return { status: 503, body: { Error: text, code: error.code, status: 503, message: error.message } };
  if (!isWeftError(error)) throw error;
  const body: ErrorBody = { Error: text, code: error.code, status: error.status, message: error.message };
  if (error instanceof InvalidArgumentError) body.issues = error.issues;
  return { status: error.status, body };
}

/** A failure that is not a core error: Amalgam8's text, and a Weft code naming what happened. */
export function failure(status: number, text: string, code: string, message: string): Failure {
  return { status, body: { Error: text, code, status, message } };
}
