/**
 * The three-hop stack of the blue/green example, in this process: `web` calls `api`, which calls
 * `users`, deployed twice — `users` blue (the version in service) and green (the new one). Each is
 * a `node:http` server on loopback that registers itself in the control plane; web and api call
 * the next hop with `fetch` through a `MeshAgent` of their own identity (no sidecar), forwarding
 * the incoming `x-request-id`, and serve their calls' access-log records at `/debug/access-log`
 * (`serveAccessLog`), as a sidecar's admin listener does. A `Sidecar` is the gateway in front.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import {
  type RegistrationClient,
  WeftAuthorizationSource,
  WeftRegistrySource,
  WeftRulesSource,
} from '@weft/adapters/weft';
import { Discovery } from '@weft/core';
import { MeshAgent, rulesRouter, Sidecar } from '@weft/proxy';
import { type AccessLogAnswer, RecentAccessLog } from '@weft/servers';
import { fetch } from 'undici';
import { startInstance, untilListed } from '../mesh/instance.js';

/** What a request through the stack answers: each hop's name and version, and the id it carried. */
export interface StackAnswer {
  readonly web: string;
  readonly api: string;
  readonly users: string;
  /** The `x-request-id` web received (the gateway's, or the caller's). */
  readonly request_id: string;
}

/** One hop's view of a request: who logged it, and its records. */
export interface HopRecords {
  /** The proxy that logged the hop: `gateway`, `web`, `api`. */
  readonly hop: string;
  readonly records: readonly Record<string, unknown>[];
}

/** The running stack. */
export interface Stack {
  /** `<gateway>/web/` answers a {@link StackAnswer}. */
  readonly entry: string;
  /** Each instance: `users green 127.0.0.1:41234`. */
  readonly instances: readonly { service: string; version: string; address: string }[];
  /** Each caller's access-log URL (`/debug/access-log` of web and api). */
  readonly accessLogUrls: readonly string[];
  /** The records of request `id` at every hop: the gateway, web, api — in call order. */
  recordsOf(id: string): Promise<HopRecords[]>;
  /** Resolves once this process's proxies have the controller's rules of `revision` or later. */
  rulesAt(revision: number): Promise<void>;
  /** Resolves once the gateway enforces the controller's authorization policies of `revision` or later. */
  policiesAt(revision: number): Promise<void>;
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** Starts the four instances and the gateway; resolves once the gateway and the callers see all of them. */
export async function startStack(controlPlane: string): Promise<Stack> {
  // One view of the registry and one of the rules, shared by both agents and the gateway.
  const registrySource = new WeftRegistrySource({ url: controlPlane });
  const discovery = new Discovery({ sources: [registrySource] });
  const rulesSource = new WeftRulesSource({ url: controlPlane });
  const router = rulesRouter([]);
  const following = rulesSource.follow(router);
  await Promise.all([discovery.ready(), following.ready()]);

  const agents: MeshAgent[] = [];
  /** A caller: its agent (forwarding the request id), and the ring of its calls' records. */
  const caller = (name: string) => {
    const recent = new RecentAccessLog();
    const agent = new MeshAgent({
      discovery,
      router,
      identity: { name, tags: ['version=v1'] },
      propagateHeaders: ['x-request-id'],
      accessLog: recent,
    });
    agents.push(agent);
    return { agent, recent };
  };

  /** A hop that answers its own name and what the next hop answered. */
  const forwarding =
    (agent: MeshAgent, next: string, own: (req: IncomingMessage) => Record<string, unknown>): Handler =>
    async (req, res) => {
      const answer = await agent.withIncoming(req.headers, async () => {
        const down = await fetch(`http://${next}/`, { dispatcher: agent, signal: AbortSignal.timeout(5000) });
        if (!down.ok) throw new Error(`${next} answered HTTP ${down.status}`);
        return (await down.json()) as Record<string, unknown>;
      });
      json(res, 200, { ...own(req), ...answer });
    };

  const web = caller('web');
  const api = caller('api');
  const specs: { service: string; version: string; handler: Handler; recent?: RecentAccessLog }[] = [
    {
      service: 'web',
      version: 'v1',
      recent: web.recent,
      handler: forwarding(web.agent, 'api', (req) => ({ web: 'v1', request_id: req.headers['x-request-id'] ?? '' })),
    },
    {
      service: 'api',
      version: 'v1',
      recent: api.recent,
      handler: forwarding(api.agent, 'users', () => ({ api: 'v1' })),
    },
    ...(['blue', 'green'] as const).map((version) => ({
      service: 'users',
      version,
      handler: async (_req: IncomingMessage, res: ServerResponse) => json(res, 200, { users: version }),
    })),
  ];

  const servers: Server[] = [];
  const registrations: RegistrationClient[] = [];
  const accessLogUrls = new Map<string, string>();
  const instances = await Promise.all(
    specs.map(async (spec) => {
      const started = await startInstance(controlPlane, spec, {
        errorStatus: 502,
        rulesRevision: () => following.revision,
      });
      servers.push(started.server);
      registrations.push(started.registration);
      if (spec.recent !== undefined)
        accessLogUrls.set(spec.service, `http://127.0.0.1:${started.port}/debug/access-log`);
      return { service: spec.service, version: spec.version, address: started.address };
    }),
  );
  await untilListed(discovery, ['web', 'api', 'users'], 4);

  const gatewayLog = new RecentAccessLog();
  const gateway = new Sidecar({
    discovery,
    router,
    identity: { name: 'gateway' },
    port: 0,
    admin: false,
    accessLog: gatewayLog,
  });
  const { port } = await gateway.listen();
  // The gateway judges every request it receives by the namespace's authorization policies.
  const authorizationSource = new WeftAuthorizationSource({ url: controlPlane });
  let policiesRevision = -1;
  const authorizing = authorizationSource.follow(gateway, {
    onUpdate: (revision) => {
      policiesRevision = revision ?? policiesRevision;
    },
  });

  /** The records of `id` a caller serves over HTTP, as a recipe runner reads them. */
  const served = async (service: string, id: string): Promise<HopRecords> => {
    const url = `${accessLogUrls.get(service)}?request_id_prefix=${encodeURIComponent(id)}`;
    const body = (await (await fetch(url)).json()) as AccessLogAnswer;
    return { hop: service, records: body.records.filter((r) => r.request_id === id) };
  };

  return {
    entry: `http://127.0.0.1:${port}/web/`,
    instances,
    accessLogUrls: [...accessLogUrls.values()],
    async recordsOf(id) {
      const atGateway = gatewayLog.query({ requestIdPrefix: id }).records.filter((r) => r.request_id === id);
      return [
        { hop: 'gateway', records: atGateway as unknown as Record<string, unknown>[] },
        await served('web', id),
        await served('api', id),
      ];
    },
    async rulesAt(revision) {
      while ((following.revision ?? -1) < revision) await new Promise((r) => setTimeout(r, 10));
    },
    async policiesAt(revision) {
      while (policiesRevision < revision) await new Promise((r) => setTimeout(r, 10));
    },
    async close() {
      authorizing.unsubscribe();
      await authorizationSource.close();
      await Promise.all(registrations.map((r) => r.close()));
      await gateway.close();
      for (const server of servers) server.closeAllConnections();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      await Promise.all(agents.map((a) => a.close()));
      following.unsubscribe();
      discovery.close();
      await Promise.all([registrySource.close(), rulesSource.close()]);
    },
  };
}
