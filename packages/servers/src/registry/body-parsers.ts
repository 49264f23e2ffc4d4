import type { FastifyInstance } from 'fastify';

/**
 * Bodies as Amalgam8 took them: JSON in UTF-8 only (anything else with a body is a 415, whatever
 * the route), parsed — by fastify's own parser, which refuses prototype poisoning — for the
 * routes that read one (`bodyRoutes`: `METHOD /path` below the prefix) and ignored elsewhere; an
 * empty body is no body.
 */
export function installBodyParsers(app: FastifyInstance, bodyRoutes: ReadonlySet<string>): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    if (text !== '' && !utf8Charset(request.headers['content-type'])) {
      done(unsupportedMediaType(), undefined);
      return;
    }
    const route = `${request.method} ${request.routeOptions.url?.slice(app.prefix.length)}`;
    if (text === '' || !bodyRoutes.has(route)) done(null, undefined);
    else parse(request, text, done);
  });
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => {
    if ((body as Buffer).length === 0) done(null, undefined);
    else done(unsupportedMediaType(), undefined);
  });
}

function unsupportedMediaType(): Error {
  return Object.assign(new Error('the body must be application/json in UTF-8'), {
    statusCode: 415,
    code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
  });
}

function utf8Charset(contentType: string | undefined): boolean {
  const m = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? '');
  return m === null || m[1]?.toLowerCase() === 'utf-8';
}
