import { hostname } from 'node:os';
import type { Subscription, ValidationIssue } from '@weft/core';
import {
  type ControlPlaneConnectionOptions,
  type ResolvedConnection,
  resolveConnection,
} from './connection-options.js';
import { type FollowOptions, type ResolvedFollowOptions, resolveFollowOptions } from './follow-options.js';
import { Follower, type FollowHandlers, type FollowLog } from './follower.js';
import { ControlPlaneHttp } from './http.js';

/** The request header that names the proxy to the server (the servers' `PROXY_HEADER`). */
export const PROXY_HEADER = 'x-weft-proxy';

/** The options every source that follows a Weft server takes: the server, how to follow it, a name. */
interface FollowingSourceOptions extends ControlPlaneConnectionOptions, FollowOptions {
  name?: string;
}

/** A source's connection and follow options, resolved; their problems, and a bad `name`, are added to `issues`. */
export function resolveFollowingSource(
  options: FollowingSourceOptions,
  issues: ValidationIssue[],
): { connection: ResolvedConnection; follow: ResolvedFollowOptions } {
  const connection = resolveConnection(options, issues);
  // `?? {}` and `?.`: a JavaScript caller may pass nothing; the issues then say what is missing.
  const follow = resolveFollowOptions(options ?? {}, issues);
  if (options?.name !== undefined && (typeof options.name !== 'string' || options.name === ''))
    issues.push({ path: 'name', message: 'must be a non-empty string' });
  const proxyName = options?.proxyName ?? `${hostname().replace(/[^\x21-\x7e]/g, '_') || 'unknown'}:${process.pid}`;
  // A header value: visible ASCII and inner spaces only, or undici refuses every request.
  if (typeof proxyName !== 'string' || !/^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/.test(proxyName))
    issues.push({ path: 'proxyName', message: 'must be a non-empty string of printable ASCII' });
  // On every request of the source, so the server sees it whichever transport the follower uses.
  return { connection: { ...connection, headers: { [PROXY_HEADER]: proxyName, ...connection.headers } }, follow };
}

/**
 * One read of a Weft server (the registry's instances, the controller's rules) as a source's
 * subscriptions follow it: a {@link Follower} each, over one HTTP client, so that `close()` ends
 * them all and then the client.
 */
export class FollowedRead {
  private readonly http: ControlPlaneHttp;
  private readonly followers = new Set<Follower>();

  constructor(
    connection: ResolvedConnection,
    private readonly path: string,
    private readonly follow: ResolvedFollowOptions,
    private readonly log: FollowLog,
  ) {
    this.http = new ControlPlaneHttp(connection);
  }

  /** Starts following the read for one subscriber; unsubscribing stops it (once). */
  subscribe(handlers: FollowHandlers): Subscription {
    const follower = new Follower(this.http, this.path, this.follow, handlers, this.log);
    this.followers.add(follower);
    follower.start();
    const unsubscribe = (): void => {
      if (!this.followers.delete(follower)) return;
      void follower.stop();
    };
    return { unsubscribe, [Symbol.dispose]: unsubscribe };
  }

  /** Ends every subscription and closes the connections. */
  async close(): Promise<void> {
    const followers = [...this.followers];
    this.followers.clear();
    await Promise.all(followers.map((f) => f.stop()));
    await this.http.close();
  }
}
