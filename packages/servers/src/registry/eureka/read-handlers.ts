import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { namespaceOf } from '../context.js';
import { eurekaViews, fullApplications, groupApplications, reconcileHashCode } from './applications.js';
import { writeApplication, writeApplications, writeInstance } from './codec.js';
import type { EurekaContext } from './context.js';
import { type EurekaInstanceView, hasEurekaEndpoint, toEurekaInstance } from './from-weft.js';
import { findInstance, findInstanceById, instancesOfApp } from './lookup.js';
import { appOfService } from './names.js';
import { formatOf, notFound, sendDocument } from './replies.js';

/** Eureka's reads: full and delta fetches, one application, one instance, VIP addresses. */
export function eurekaReadHandlers(app: FastifyInstance, ctx: EurekaContext): void {
  const { registry, logs } = ctx;

  // A full fetch reads the registry itself (fresh after a write); its version is the change
  // log's revision, so a client whose next delta brings nothing new skips it.
  const fullFetch = async (namespace: string) => {
    const log = await logs.of(namespace);
    return fullApplications(await registry.instances({ namespace, status: 'ALL' }), log.revision);
  };
  for (const url of ['/apps', '/apps/'])
    app.get(url, async (request, reply) =>
      sendDocument(
        reply,
        formatOf(request),
        writeApplications(await fullFetch(namespaceOf(request)), formatOf(request)),
      ),
    );

  // The changes of the retention window, and the hash of the whole registry they lead to.
  app.get('/apps/delta', async (request, reply) => {
    const log = await logs.of(namespaceOf(request));
    const delta = log.delta();
    const changed = delta.changes.map(({ action, instance }) => toEurekaInstance(instance, action));
    const format = formatOf(request);
    return sendDocument(
      reply,
      format,
      writeApplications(
        {
          versionsDelta: delta.revision,
          appsHashcode: log.currentHash((current) => reconcileHashCode(eurekaViews(current))),
          applications: groupApplications(changed),
        },
        format,
      ),
    );
  });

  app.get<{ Params: { app: string } }>('/apps/:app', async (request, reply) => {
    const name = request.params.app;
    const views = eurekaViews(await instancesOfApp(registry, namespaceOf(request), name));
    if (views.length === 0) return notFound(reply, `application ${name}`);
    const format = formatOf(request);
    return sendDocument(reply, format, writeApplication({ name: appOfService(name), instances: views }, format));
  });

  app.get<{ Params: { app: string; id: string } }>('/apps/:app/:id', async (request, reply) => {
    const { app: name, id } = request.params;
    const instance = await findInstance(registry, namespaceOf(request), name, id);
    if (instance === undefined || !hasEurekaEndpoint(instance)) return notFound(reply, `instance ${id} of ${name}`);
    const format = formatOf(request);
    return sendDocument(reply, format, writeInstance(toEurekaInstance(instance), format));
  });

  app.get<{ Params: { id: string } }>('/instances/:id', async (request, reply) => {
    const { id } = request.params;
    const instance = await findInstanceById(registry, namespaceOf(request), id);
    if (instance === undefined || !hasEurekaEndpoint(instance)) return notFound(reply, `instance ${id}`);
    const format = formatOf(request);
    return sendDocument(reply, format, writeInstance(toEurekaInstance(instance), format));
  });

  // The instances of a VIP (or secure VIP) address: an `Applications` document, as Eureka answers.
  const byVip = (field: 'vipAddress' | 'secureVipAddress') =>
    async function vipFetch(request: FastifyRequest<{ Params: { vip: string } }>, reply: FastifyReply) {
      const { vip } = request.params;
      const namespace = namespaceOf(request);
      const log = await logs.of(namespace);
      const views = eurekaViews(await registry.instances({ namespace, status: 'ALL' })).filter(
        (v: EurekaInstanceView) => v[field] === vip,
      );
      if (views.length === 0) return notFound(reply, `VIP address ${vip}`);
      const format = formatOf(request);
      return sendDocument(
        reply,
        format,
        writeApplications(
          {
            versionsDelta: log.revision,
            appsHashcode: reconcileHashCode(views),
            applications: groupApplications(views),
          },
          format,
        ),
      );
    };
  app.get('/vips/:vip', byVip('vipAddress'));
  app.get('/svips/:vip', byVip('secureVipAddress'));
}
