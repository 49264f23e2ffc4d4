import { isWeftError, type ServiceInstance } from '@weft/core';
import type { FastifyInstance } from 'fastify';
import { checkServiceWrite } from '../../auth/binding.js';
import { namespaceOf } from '../context.js';
import { durable, type EurekaContext, queryValue } from './context.js';
import { overrideOf } from './from-weft.js';
import { findInstance } from './lookup.js';
import { type EurekaRecord, RECORD_KEY, recordJson, recordOf, type WeftMetadata } from './record.js';
import { readEurekaRegistration } from './registration-body.js';
import { badParameter, notFound } from './replies.js';
import { reregistration } from './reregister.js';
import { type EurekaStatus, eurekaStatus, weftStatus } from './status.js';
import { tagsOfMetadata, toWeftRegistration } from './to-weft.js';

interface AppParams {
  app: string;
}
interface InstanceParams extends AppParams {
  id: string;
}

/** True for the core error of an instance that is gone (expired or deregistered meanwhile). */
function gone(err: unknown): boolean {
  return isWeftError(err, 'WEFT_ERR_UNKNOWN_INSTANCE');
}

/** The record with changes, as metadata of the instance. */
function withRecord(instance: ServiceInstance, record: EurekaRecord): WeftMetadata {
  return { ...instance.metadata, [RECORD_KEY]: recordJson(record) };
}

/**
 * Registration, renewal, cancellation, status overrides and metadata updates. Credentials bound
 * to services (a JWT's services claim) write only those services' instances, as on `/api/v1`:
 * any other is refused with 403 `WEFT_ERR_BINDING_FORBIDDEN` — after the lookup, so an unknown
 * instance is still the 404 that makes a client register again.
 */
export function eurekaWriteHandlers(app: FastifyInstance, ctx: EurekaContext): void {
  const { registry } = ctx;

  // 204 as Eureka answers. A re-registration keeps an override in force (Eureka's, or an
  // OUT_OF_SERVICE set through /api/v1): the client's own status is recorded beside it.
  app.post<{ Params: AppParams }>('/apps/:app', async (request, reply) => {
    const namespace = namespaceOf(request);
    const reg = readEurekaRegistration(request.body, request.params.app);
    const existing = await findInstance(registry, namespace, reg.app, reg.instanceId);
    const input = toWeftRegistration(reg, { overriddenStatus: existing && overrideOf(existing) });
    checkServiceWrite(request, input.service, 'registers');
    // The record it replaces may be of a service spelled in another case (registered through /api/v1).
    if (existing !== undefined) checkServiceWrite(request, existing.service, 'replaces');
    const registered = await registry.register(input, { namespace });
    // Same Eureka id on a new endpoint (a new port, a new address): the old record goes.
    if (existing !== undefined && existing.id !== registered.id)
      await registry.deregister(existing.id, { namespace }).catch((err: unknown) => {
        if (!gone(err)) throw err;
      });
    await durable(registry);
    return reply.code(204).send();
  });

  // The hot path. 404 makes the client register again: for an unknown instance, and — as Eureka
  // does — when the client's lastDirtyTimestamp is newer than the registered one (it has changed
  // since it last registered).
  app.put<{ Params: InstanceParams }>('/apps/:app/:id', async (request, reply) => {
    const namespace = namespaceOf(request);
    const { app: appName, id } = request.params;
    const instance = await findInstance(registry, namespace, appName, id);
    if (instance === undefined) return notFound(reply, `instance ${id} of ${appName}`);
    checkServiceWrite(request, instance.service, 'renews');
    const dirty = Number(queryValue(request.query, 'lastDirtyTimestamp'));
    const known = recordOf(instance)?.lastDirtyTimestamp;
    if (known !== undefined && Number.isFinite(dirty) && dirty > known)
      return notFound(reply, `instance ${id} of ${appName} as of lastDirtyTimestamp ${dirty}`);
    try {
      await registry.renew(instance.id, { namespace });
    } catch (err) {
      if (gone(err)) return notFound(reply, `instance ${id} of ${appName}`);
      throw err;
    }
    return reply.code(200).send();
  });

  app.delete<{ Params: InstanceParams }>('/apps/:app/:id', async (request, reply) => {
    const namespace = namespaceOf(request);
    const { app: appName, id } = request.params;
    const instance = await findInstance(registry, namespace, appName, id);
    if (instance === undefined) return notFound(reply, `instance ${id} of ${appName}`);
    checkServiceWrite(request, instance.service, 'deregisters');
    try {
      await registry.deregister(instance.id, { namespace });
    } catch (err) {
      if (gone(err)) return notFound(reply, `instance ${id} of ${appName}`);
      throw err;
    }
    await durable(registry);
    return reply.code(200).send();
  });

  // An override: the status Eureka clients see until it is deleted, whatever the client reports.
  app.put<{ Params: InstanceParams }>('/apps/:app/:id/status', async (request, reply) => {
    const namespace = namespaceOf(request);
    const { app: appName, id } = request.params;
    const value = eurekaStatus(queryValue(request.query, 'value'));
    if (value === undefined)
      return badParameter(reply, 'value', 'must be one of UP, DOWN, STARTING, OUT_OF_SERVICE, UNKNOWN');
    const instance = await findInstance(registry, namespace, appName, id);
    if (instance === undefined) return notFound(reply, `instance ${id} of ${appName}`);
    checkServiceWrite(request, instance.service, 'overrides the status of');
    const record = recordOf(instance);
    await setEurekaStatus(instance, value, record && { ...record, overriddenStatus: value });
    await durable(registry);
    return reply.code(200).send();
  });

  // Lifts the override: the status becomes `value` if given, else what the client last reported
  // (Eureka sets UNKNOWN and lets the next heartbeat fail into a re-registration; Weft goes there directly).
  app.delete<{ Params: InstanceParams }>('/apps/:app/:id/status', async (request, reply) => {
    const namespace = namespaceOf(request);
    const { app: appName, id } = request.params;
    const given = queryValue(request.query, 'value');
    const value = given === undefined ? undefined : eurekaStatus(given);
    if (given !== undefined && value === undefined)
      return badParameter(reply, 'value', 'must be one of UP, DOWN, STARTING, OUT_OF_SERVICE, UNKNOWN');
    const instance = await findInstance(registry, namespace, appName, id);
    if (instance === undefined) return notFound(reply, `instance ${id} of ${appName}`);
    checkServiceWrite(request, instance.service, 'lifts the status override of');
    const record = recordOf(instance);
    const next: EurekaStatus = value ?? record?.status ?? 'UP';
    let lifted: EurekaRecord | undefined;
    if (record !== undefined) {
      const { overriddenStatus: _lifted, ...rest } = record;
      lifted = { ...rest, status: next };
    }
    await setEurekaStatus(instance, next, lifted);
    await durable(registry);
    return reply.code(200).send();
  });

  // Eureka's metadata update: each query parameter sets one key. Tags follow the metadata of
  // instances registered through Eureka (the `version` rule); others keep their tags.
  app.put<{ Params: InstanceParams }>('/apps/:app/:id/metadata', async (request, reply) => {
    const namespace = namespaceOf(request);
    const { app: appName, id } = request.params;
    const instance = await findInstance(registry, namespace, appName, id);
    if (instance === undefined) return notFound(reply, `instance ${id} of ${appName}`);
    checkServiceWrite(request, instance.service, 'changes the metadata of');
    const updates: Record<string, string> = {};
    for (const key of Object.keys((request.query ?? {}) as object)) {
      const value = queryValue(request.query, key);
      if (key !== RECORD_KEY && value !== undefined) updates[key] = value;
    }
    const metadata = { ...instance.metadata, ...updates };
    const { [RECORD_KEY]: _record, ...clientMetadata } = metadata;
    const tags = recordOf(instance) === undefined ? instance.tags : tagsOfMetadata(clientMetadata);
    await registry.register(reregistration(instance, { metadata, tags }), { namespace });
    await durable(registry);
    return reply.code(200).send();
  });

  /** Sets a Eureka status: with the record rewritten when the instance has one, else Weft's status alone. */
  async function setEurekaStatus(
    instance: ServiceInstance,
    status: EurekaStatus,
    record: EurekaRecord | undefined,
  ): Promise<void> {
    const namespace = instance.namespace;
    if (record === undefined) {
      await registry.setStatus(instance.id, weftStatus(status), { namespace });
      return;
    }
    await registry.register(
      reregistration(instance, { metadata: withRecord(instance, record), status: weftStatus(status) }),
      { namespace },
    );
  }
}
