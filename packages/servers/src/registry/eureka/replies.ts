import { InvalidArgumentError, isWeftError } from '@weft/core';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { answerFormat, CONTENT_TYPES, type EurekaFormat } from './codec.js';

/** The format the request asked for. */
export function formatOf(request: FastifyRequest): EurekaFormat {
  return answerFormat(request.headers.accept);
}

/** Sends a rendered Eureka document. */
export function sendDocument(reply: FastifyReply, format: EurekaFormat, text: string): FastifyReply {
  return reply.type(CONTENT_TYPES[format]).send(text);
}

/** An error answer: Eureka clients read only the status; people and logs get Weft's coded body. */
function sendError(
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
  issues?: readonly { path: string; message: string }[],
): FastifyReply {
  return reply
    .code(status)
    .type('application/json')
    .send(JSON.stringify({ error: message, code, status, message, ...(issues === undefined ? {} : { issues }) }));
}

/**
 * 404 for an unknown application or instance. On a heartbeat it is Eureka's signal to register
 * again, which every Eureka client does.
 */
export function notFound(reply: FastifyReply, what: string): FastifyReply {
  return sendError(reply, 404, 'WEFT_ERR_UNKNOWN_INSTANCE', `${what} is not registered`);
}

/** A bad query parameter (400), naming it. */
export function badParameter(reply: FastifyReply, path: string, message: string): FastifyReply {
  return sendError(reply, 400, 'WEFT_ERR_INVALID_ARGUMENT', `invalid query parameter ${path}: ${message}`, [
    { path, message },
  ]);
}

/** What escapes the handlers: invalid bodies (400 naming every field), core errors (their status), bugs (500, logged). */
export function eurekaErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof InvalidArgumentError) return sendError(reply, 400, error.code, error.message, error.issues);
  if (isWeftError(error)) return sendError(reply, error.status, error.code, error.message);
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || error.statusCode === 415)
    return sendError(reply, 415, 'WEFT_ERR_UNSUPPORTED_MEDIA_TYPE', error.message);
  if (error.statusCode === 413) return sendError(reply, 413, 'WEFT_ERR_PAYLOAD_TOO_LARGE', error.message);
  if (error.statusCode === 400)
    return sendError(reply, 400, 'WEFT_ERR_INVALID_ARGUMENT', `invalid request body: ${error.message}`, [
      { path: '', message: error.message },
    ]);
  request.log.error({ err: error }, 'Eureka request failed');
  return sendError(reply, 500, 'WEFT_ERR_INTERNAL', error.message);
}
