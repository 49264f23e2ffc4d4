/** Waiting on the mesh: free ports, polling with a deadline, and rules reaching the proxies. */
import { createServer } from 'node:net';

/** A port nothing listens on right now (an app's port must be known before it starts, to register it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls `probe` until it returns something other than undefined; fails naming `what` after `ms`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${ms} ms waiting for ${what}${last === undefined ? '' : `: ${last}`}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function json(url: string): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return res.json();
}

/** The controller's rules revision. */
export async function rulesRevision(controlPlane: string): Promise<number> {
  const body = (await json(`${controlPlane}/v1/rules`)) as { revision?: number };
  return body.revision ?? 0;
}

/**
 * Waits until every proxy (sidecar or gateway admin URL) has the controller's current rules, so
 * the requests that follow a rule change see the new rules — a wait on the fact, not a guess.
 */
export async function rulesReached(controlPlane: string, admins: readonly string[]): Promise<void> {
  const revision = await rulesRevision(controlPlane);
  await Promise.all(
    admins.map((admin) =>
      until(`the rules of revision ${revision} to reach ${admin}`, async () => {
        const health = (await json(`${admin}/health`)) as { rules?: { revision?: number } };
        return (health.rules?.revision ?? -1) >= revision ? true : undefined;
      }),
    ),
  );
}

/** How many instances of `service` the registry lists (0 for an unknown service). */
export async function registeredInstances(controlPlane: string, service: string): Promise<number> {
  const res = await fetch(`${controlPlane}/api/v1/services/${service}`, { signal: AbortSignal.timeout(5000) });
  if (res.status === 404) return 0;
  const body = (await res.json()) as { instances?: unknown[] };
  return body.instances?.length ?? 0;
}

/**
 * Waits until every proxy (sidecar or gateway admin URL) has the registry's current instances:
 * its endpoint sources are at the registry's revision (the `x-weft-index` of a read).
 */
export async function endpointsReached(controlPlane: string, admins: readonly string[]): Promise<void> {
  const res = await fetch(`${controlPlane}/api/v1/instances`, { signal: AbortSignal.timeout(5000) });
  await res.arrayBuffer();
  const revision = Number(res.headers.get('x-weft-index') ?? 0);
  await Promise.all(
    admins.map((admin) =>
      until(`the registry's revision ${revision} to reach ${admin}`, async () => {
        const health = (await json(`${admin}/health`)) as { endpoints?: { sources?: { revision?: number }[] } };
        const sources = health.endpoints?.sources ?? [];
        return sources.length > 0 && sources.every((s) => (s.revision ?? -1) >= revision) ? true : undefined;
      }),
    ),
  );
}
