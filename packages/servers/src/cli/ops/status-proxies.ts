import type { ApiClient } from './http.js';

/** A proxy as the servers list it (`GET /v1/proxies`, `GET /api/v1/proxies`). */
export interface ProxyRow {
  readonly name: string;
  readonly watches: string;
  readonly transport: string;
  readonly revision: number;
  readonly current_revision: number;
  readonly behind: number;
  readonly last_seen: string;
  readonly address: string;
  /** Whether `weft status` counts it stale (see {@link isStale}). */
  readonly stale: boolean;
}

/** Behind for longer than this is stale: a change reaches a following proxy in milliseconds. */
export const BEHIND_STALE_MS = 5_000;
/**
 * Without an open stream and unseen for longer than this is stale: a long-poller comes back every
 * 30 s by default, a poller every 5 s.
 */
export const UNSEEN_STALE_MS = 75_000;

interface Listed {
  readonly behind?: unknown;
  readonly behind_for_ms?: unknown;
  readonly connected?: unknown;
  readonly idle_ms?: unknown;
}

/** Stale: behind the current revision for a while, or neither connected nor seen recently (the server's clock decides both). */
export function isStale(p: Listed): boolean {
  const behindFor = typeof p.behind_for_ms === 'number' ? p.behind_for_ms : 0;
  const idle = typeof p.idle_ms === 'number' ? p.idle_ms : 0;
  return (behindFor > BEHIND_STALE_MS && p.behind !== 0) || (p.connected !== true && idle > UNSEEN_STALE_MS);
}

/**
 * The proxies a server has seen, or why they are unknown (a server older than the route): status
 * reports, it does not fail on the first problem.
 */
export async function proxiesOf(client: ApiClient, path: string): Promise<ProxyRow[] | string> {
  try {
    const answer = await client.get(path);
    const list = (answer.body as { proxies?: unknown } | undefined)?.proxies;
    if (!Array.isArray(list)) return 'the server does not list proxies';
    return list.map((raw: unknown) => {
      const p = (raw ?? {}) as Record<string, unknown>;
      return {
        name: String(p.name ?? ''),
        watches: String(p.watches ?? ''),
        transport: String(p.transport ?? ''),
        revision: Number(p.revision ?? 0),
        current_revision: Number(p.current_revision ?? 0),
        behind: Number(p.behind ?? 0),
        last_seen: String(p.last_seen ?? ''),
        address: String(p.address ?? ''),
        stale: isStale(p),
      };
    });
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** The rows of the proxies table: one per proxy and server. */
export function proxyTableRows(server: string, proxies: ProxyRow[] | string | undefined): string[][] {
  if (!Array.isArray(proxies)) return [];
  return proxies.map((p) => [
    server,
    p.name,
    p.watches,
    p.transport,
    `${p.revision} / ${p.current_revision}`,
    p.stale ? 'STALE' : p.behind > 0 ? `${p.behind} behind` : 'current',
    p.address,
  ]);
}

export const PROXY_TABLE_HEADERS = ['Server', 'Proxy', 'Watches', 'Transport', 'Revision', 'State', 'Address'];
