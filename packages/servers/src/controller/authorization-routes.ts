import { type AuthzExplanation, compileAuthorization, parseAuthzRequest } from '@weft/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { NamespaceRules, RulesStore, WriteResult } from '../rules-store/types.js';
import type { ProxyLog } from '../watch/proxy-log.js';
import { INDEX_HEADER, serveRead, type WatchLimits } from '../watch/serve-read.js';
import type { Watchable } from '../watch/types.js';
import { namespaceWrite } from './namespace-writes.js';
import { writeOptions } from './preconditions.js';

/** `GET /v1/authorization`: the namespace's policies (the defaults when none were set) and revision. */
export interface AuthorizationView {
  readonly defaultAction: 'allow' | 'deny';
  readonly policies: readonly unknown[];
  readonly revision: number;
}

/** The view of a namespace's authorization: what a proxy applies at that revision. */
export function authorizationView(ns: NamespaceRules): AuthorizationView {
  return {
    defaultAction: ns.authorization?.defaultAction ?? 'allow',
    policies: ns.authorization?.policies ?? [],
    revision: ns.revision,
  };
}

/** What the authorization routes share with the rule routes of the same plugin. */
export interface AuthorizationRoutesContext {
  readonly store: RulesStore;
  readonly watchOf: (request: FastifyRequest) => Watchable<NamespaceRules>;
  readonly limits: WatchLimits;
  readonly proxies: ProxyLog;
}

const written = (reply: FastifyReply, result: WriteResult) =>
  reply.header(INDEX_HEADER, String(result.revision)).send({ revision: result.revision });

/**
 * `/v1/authorization`: a namespace's authorization policies, stored with its rules (one
 * revision for both, so a proxy never applies the routes of one revision with the policies of
 * another), watchable like every read, and `POST /v1/authorization/explain`. Only
 * namespace-wide credentials write them: a workload's token bound to its service must not
 * let it open up (or shut) its neighbours' traffic (403 `WEFT_ERR_BINDING_FORBIDDEN`).
 */
export function authorizationRoutes(app: FastifyInstance, ctx: AuthorizationRoutesContext): void {
  const { store, watchOf, limits, proxies } = ctx;
  const policiesWrite = namespaceWrite('authorization policies');

  app.get('/v1/authorization', (request, reply) =>
    serveRead(request, reply, watchOf(request), authorizationView, limits, proxies),
  );

  // The whole document at once: a policy set is reviewed and applied as one (and compare-and-set with If-Match).
  app.put('/v1/authorization', policiesWrite, async (request, reply) =>
    written(reply, await store.authorize(request.namespace, request.body, writeOptions(request))),
  );

  app.delete('/v1/authorization', policiesWrite, async (request, reply) =>
    written(reply, await store.authorize(request.namespace, undefined, writeOptions(request))),
  );

  app.post('/v1/authorization/explain', async (request, reply) => {
    const input = parseAuthzRequest(request.body, 'explain request');
    const ns = await store.get(request.namespace);
    const explanation: AuthzExplanation = compileAuthorization(ns.authorization ?? { policies: [] }).explain(input);
    return reply.header(INDEX_HEADER, String(ns.revision)).send({ ...explanation, revision: ns.revision });
  });
}
