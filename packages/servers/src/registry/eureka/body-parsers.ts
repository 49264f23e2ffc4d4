import type { FastifyInstance } from 'fastify';
import { parseXmlBody } from './codec.js';

/**
 * Bodies as Eureka clients send them: JSON (Netflix's client, py_eureka_client) or XML (older
 * clients), both UTF-8; an empty body is no body (heartbeats and status changes send none, some
 * with a content type anyway). Anything else with a body is a 415.
 */
export function installEurekaBodyParsers(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') done(null, undefined);
    else parseJson(request, body as string, done);
  });
  app.addContentTypeParser(['application/xml', 'text/xml'], { parseAs: 'string' }, (_request, body, done) => {
    if (body === '') {
      done(null, undefined);
      return;
    }
    try {
      done(null, parseXmlBody(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => {
    if ((body as Buffer).length === 0) done(null, undefined);
    else
      done(
        Object.assign(new Error('the body must be application/json or application/xml'), {
          statusCode: 415,
          code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
        }),
        undefined,
      );
  });
}
