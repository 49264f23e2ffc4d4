import { InvalidArgumentError, isWeftError, type ValidationIssue } from '@weft/core';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { RulesStoreError } from '../rules-store/errors.js';

/**
 * The error body of every controller answer, the shape the servers share (`serveRead`, auth):
 * `{error: "<message>", code: "WEFT_ERR_…", status, issues?: [{path, message}], ids?}`.
 */
export interface ErrorBody {
  readonly error: string;
  readonly code: string;
  readonly status: number;
  readonly issues?: readonly ValidationIssue[];
  readonly [extra: string]: unknown;
}

/** A 400 listing every problem, each with its JSON path. */
export function invalid(what: string, issues: readonly ValidationIssue[]): InvalidArgumentError {
  return new InvalidArgumentError(what, issues);
}

/** The status and body for an error thrown while serving a controller request. */
export function errorBody(error: unknown): ErrorBody {
  if (error instanceof InvalidArgumentError)
    return { error: error.message, code: error.code, status: 400, issues: error.issues };
  if (error instanceof RulesStoreError) return error.toJSON() as unknown as ErrorBody;
  if (isWeftError(error)) return { error: error.message, code: error.code, status: error.status };
  const fastifyError = error as Partial<FastifyError>;
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // fastify's own client errors: a malformed JSON body, an unsupported media type, too large a body.
    const message = fastifyError.message ?? 'bad request';
    if (status === 413) return { error: message, code: 'WEFT_ERR_PAYLOAD_TOO_LARGE', status };
    if (status === 400)
      return { error: message, code: 'WEFT_ERR_INVALID_ARGUMENT', status, issues: [{ path: '', message }] };
    return { error: message, code: fastifyError.code ?? 'WEFT_ERR_INVALID_ARGUMENT', status };
  }
  return { error: 'internal server error', code: 'WEFT_ERR_INTERNAL', status: 500 };
}

/** fastify error handler of the controller's routes: Weft's error body, server errors logged. */
export function controllerErrorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const body = errorBody(error);
  if (body.status >= 500) request.log.error({ err: error }, 'controller request failed');
  return reply.code(body.status).send(body);
}
