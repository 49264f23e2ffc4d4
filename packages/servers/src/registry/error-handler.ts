import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { fail } from './context.js';
import { Amalgam8Errors, failure, WireCodes } from './errors.js';

/** What escapes the handlers: malformed bodies, unsupported media types, and bugs or store failures (500, logged). */
export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const route = `${request.method} ${request.routeOptions.url ?? ''}`;
  const text = route.endsWith('/status') ? Amalgam8Errors.statusUpdateFailed : Amalgam8Errors.registrationFailed;
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || error.statusCode === 415)
    return fail(reply, failure(415, Amalgam8Errors.badContentType, WireCodes.unsupportedMediaType, error.message));
  if (error.statusCode === 413) return fail(reply, failure(413, text, WireCodes.payloadTooLarge, error.message));
  if (error.statusCode === 400)
    return fail(reply, {
      status: 400,
      body: {
        Error: text,
        code: 'WEFT_ERR_INVALID_ARGUMENT',
        status: 400,
        message: `Invalid request body: ${error.message}`,
        issues: [{ path: '', message: `is not valid JSON (${error.message})` }],
      },
    });
  request.log.error({ err: error }, 'registry request failed');
  return fail(reply, failure(500, Amalgam8Errors.internal, WireCodes.internal, error.message));
}
