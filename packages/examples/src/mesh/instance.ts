import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RegistrationClient } from '@weft/adapters/weft';
import type { Discovery } from '@weft/core';
import { type RecentAccessLog, serveAccessLog } from '@weft/servers';

/** What an in-process example service does with a request. */
export type InstanceHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

/** One service instance an example starts in its own process. */
export interface InstanceSpec {
  readonly service: string;
  readonly version: string;
  readonly handler: InstanceHandler;
  /** The ring of its own calls' records: served at `/debug/access-log`, as a sidecar's admin does. */
  readonly recent?: RecentAccessLog | undefined;
}

/** A started instance: its server and registration (the caller closes them), and where it listens. */
export interface StartedInstance {
  readonly server: Server;
  readonly registration: RegistrationClient;
  readonly port: number;
  readonly address: string;
}

/**
 * Starts an instance on a loopback port and registers it (`version=<version>`) in the control
 * plane, as a service in any language would. A handler that throws answers `errorStatus` with
 * the error; a `recent` ring is served for a recipe to read (no sidecar needed).
 */
export async function startInstance(
  controlPlane: string,
  spec: InstanceSpec,
  options: { readonly errorStatus: number; readonly rulesRevision: () => number | undefined },
): Promise<StartedInstance> {
  const { service, version, handler, recent } = spec;
  const server = createServer((req, res) => {
    Promise.resolve()
      .then(() => handler(req, res))
      .catch((err: unknown) => {
        res.writeHead(options.errorStatus, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: String(err) }));
      });
  });
  if (recent !== undefined)
    serveAccessLog(server, recent, {
      service: { name: service, tags: [`version=${version}`] },
      rulesRevision: options.rulesRevision,
    });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const registration = new RegistrationClient({
    url: controlPlane,
    registration: { service, endpoint: { host: '127.0.0.1', port }, tags: [`version=${version}`], ttl: 30 },
  });
  await registration.start();
  return { server, registration, port, address: `127.0.0.1:${port}` };
}

/** Waits until discovery lists `count` instances of `services` in all: it hears of registrations over its watch. */
export async function untilListed(discovery: Discovery, services: readonly string[], count: number): Promise<void> {
  while (services.reduce((n, s) => n + discovery.endpoints(s).instances.length, 0) < count)
    await new Promise((resolve) => discovery.once('change', resolve));
}
