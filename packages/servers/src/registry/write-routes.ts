import { type InstanceStatus, InstanceStatusSchema, InvalidArgumentError } from '@weft/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type BoundRequest, checkServiceWrite } from '../auth/binding.js';
import { checkInstanceWrite } from './binding.js';
import { empty, fail, linkBase, namespaceOf, type RouteContext } from './context.js';
import { Amalgam8Errors, failureOf } from './errors.js';
import { HEARTBEAT, INSTANCE, INSTANCES, STATUS } from './paths.js';
import { readRegistration } from './registration.js';
import { instanceLinks, wireInstance, wireTtl } from './wire.js';

interface IdParams {
  id: string;
}

/**
 * Makes what was just acknowledged durable when the store persists in the background (a
 * snapshot file): before the answer, so a crash after a 201/200 cannot lose it.
 */
async function durable(ctx: RouteContext): Promise<void> {
  if (ctx.registry.flush === undefined) return;
  try {
    await ctx.registry.flush();
  } catch (cause) {
    throw new Error('the change was applied but could not be made durable; retry it', { cause });
  }
}

/** The request's namespace (failing closed, see {@link namespaceOf}) and its service binding. */
function writerOf(request: FastifyRequest): BoundRequest {
  return { namespace: namespaceOf(request), boundServices: request.boundServices };
}

/**
 * Registration, heartbeat, deregistration and (Weft's) status change. Credentials bound to
 * services (a JWT's services claim) write only those services' instances: any other is refused
 * with 403 `WEFT_ERR_BINDING_FORBIDDEN`, so a workload cannot take over another's traffic.
 */
export function writeRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { registry } = ctx;

  app.post(INSTANCES, async (request, reply) => {
    const verdict = readRegistration(request.body);
    if (!verdict.ok) return fail(reply, failureOf(verdict.text, verdict.error));
    let id: string;
    let ttl: number;
    try {
      const writer = writerOf(request);
      checkServiceWrite(writer, verdict.registration.service, 'registers');
      ({ id, ttl } = await registry.register(verdict.registration, { namespace: writer.namespace }));
    } catch (err) {
      return fail(reply, failureOf(Amalgam8Errors.registrationFailed, err));
    }
    await durable(ctx);
    const links = instanceLinks(linkBase(request, ctx.prefix), id);
    return reply
      .code(201)
      .header('location', links.self)
      .send({ id, ...(wireTtl(ttl) === 0 ? {} : { ttl: wireTtl(ttl) }), links });
  });

  // The hot path: one map lookup in the registry, nothing written (heartbeats are never persisted).
  // Bound credentials add a read of their services' instances (see checkInstanceWrite).
  app.put<{ Params: IdParams }>(HEARTBEAT, async (request, reply) => {
    try {
      const writer = writerOf(request);
      await checkInstanceWrite(registry, writer, request.params.id, 'renews');
      await registry.renew(request.params.id, { namespace: writer.namespace });
    } catch (err) {
      return fail(reply, failureOf(Amalgam8Errors.heartbeatFailed, err));
    }
    return empty(reply);
  });

  app.delete<{ Params: IdParams }>(INSTANCE, async (request, reply) => {
    try {
      const writer = writerOf(request);
      await checkInstanceWrite(registry, writer, request.params.id, 'deregisters');
      await registry.deregister(request.params.id, { namespace: writer.namespace });
    } catch (err) {
      return fail(reply, failureOf(Amalgam8Errors.deregistrationFailed, err));
    }
    await durable(ctx);
    return empty(reply);
  });

  // Weft's addition: Amalgam8's own API had no way to change a status but re-registering (its
  // Eureka API did). `{"status": "OUT_OF_SERVICE"}` parks an instance, which then never expires.
  app.put<{ Params: IdParams }>(STATUS, async (request, reply) => {
    const status = readStatus(request.body);
    if (status instanceof InvalidArgumentError) return fail(reply, failureOf(Amalgam8Errors.statusInvalid, status));
    let instance: Awaited<ReturnType<typeof registry.setStatus>>;
    try {
      const writer = writerOf(request);
      await checkInstanceWrite(registry, writer, request.params.id, 'changes the status of');
      instance = await registry.setStatus(request.params.id, status, { namespace: writer.namespace });
    } catch (err) {
      return fail(reply, failureOf(Amalgam8Errors.statusUpdateFailed, err));
    }
    await durable(ctx);
    return reply.send(wireInstance(instance));
  });
}

const STATUSES: ReadonlySet<string> = new Set(InstanceStatusSchema.options);

/** `{"status": "…"}`, in any case as registrations accept it. */
function readStatus(body: unknown): InstanceStatus | InvalidArgumentError {
  const raw = typeof body === 'object' && body !== null ? (body as { status?: unknown }).status : undefined;
  const status = typeof raw === 'string' ? raw.toUpperCase() : undefined;
  if (status !== undefined && STATUSES.has(status)) return status as InstanceStatus;
  return new InvalidArgumentError('status change', [
    {
      path: 'status',
      message: `must be one of ${[...STATUSES].join(', ')} (got ${raw === undefined ? 'nothing' : JSON.stringify(raw)})`,
    },
  ]);
}
