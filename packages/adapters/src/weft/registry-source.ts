import type { Source, SourceObserver, Subscription, ValidationIssue } from '@weft/core';
import { type AdapterLogger, processWarningLogger, WarnOnce } from '../internal/log.js';
import {
  type ControlPlaneConnectionOptions,
  type ResolvedConnection,
  resolveConnection,
  throwIfIssues,
} from './connection-options.js';
import { type FollowOptions, type ResolvedFollowOptions, resolveFollowOptions } from './follow-options.js';
import { type FollowedState, Follower } from './follower.js';
import { ControlPlaneHttp } from './http.js';
import { mapInstances } from './mapping.js';

/** Options of {@link WeftRegistrySource}. */
export interface WeftRegistrySourceOptions extends ControlPlaneConnectionOptions, FollowOptions {
  /** Name in logs and staleness reports. Default `weft-registry:<namespace>`. */
  name?: string;
  /** Where warnings go (skipped instances, fallbacks, reconnects). Default: Node process warnings. */
  logger?: AdapterLogger;
}

/** The read every subscription follows: the whole namespace, every status (Discovery decides eligibility). */
const INSTANCES_PATH = '/api/v1/instances?status=ALL';

/**
 * Weft's registry server — or any Amalgam8 registry — as a discovery {@link Source}: the
 * namespace's instances, every status, kept current over Server-Sent Events, falling back to
 * long-poll and then to polling when SSE or long-poll is refused (see the package README for the
 * rules and timings). A failed read is reported to the observer, so `Discovery` keeps the
 * last-known-good state and marks it stale; the source keeps reconnecting with backoff and
 * never ends by itself.
 *
 * ```ts
 * const source = new WeftRegistrySource({ url: 'http://registry:8080', token: process.env.WEFT_TOKEN });
 * const discovery = new Discovery({ sources: [source] });
 * ```
 */
export class WeftRegistrySource implements Source {
  readonly name: string;
  private readonly connection: ResolvedConnection;
  private readonly follow: ResolvedFollowOptions;
  private readonly logger: AdapterLogger;
  private readonly http: ControlPlaneHttp;
  private readonly followers = new Set<Follower>();

  constructor(options: WeftRegistrySourceOptions) {
    const issues: ValidationIssue[] = [];
    this.connection = resolveConnection(options, issues);
    this.follow = resolveFollowOptions(options ?? {}, issues);
    if (options?.name !== undefined && (typeof options.name !== 'string' || options.name === ''))
      issues.push({ path: 'name', message: 'must be a non-empty string' });
    throwIfIssues('Weft registry source options', issues);
    this.name = options.name ?? `weft-registry:${this.connection.namespace}`;
    this.logger = options.logger ?? processWarningLogger;
    this.http = new ControlPlaneHttp(this.connection);
  }

  subscribe(observer: SourceObserver): Subscription {
    const warnOnce = new WarnOnce(this.logger);
    let failing = false;
    let lastRevision: number | undefined;
    let lastText: string | undefined;
    const follower = new Follower(
      this.http,
      INSTANCES_PATH,
      this.follow,
      {
        state: (state: FollowedState) => {
          // The same state again (a reconnect's read when nothing changed): no news, unless it
          // ends a failure, when it clears the consumer's stale mark.
          const same = state.revision !== undefined ? state.revision === lastRevision : state.text === lastText;
          if (same && !failing) return true;
          const { instances, bad } = mapInstances(state.body, this.connection.namespace);
          for (const b of bad)
            warnOnce.warn({
              code: 'WEFT_WARN_WEFT_BAD_INSTANCE',
              message: `${this.name}: skipped ${b.object}: ${b.problem}`,
              source: this.name,
              object: b.object,
            });
          warnOnce.retain();
          if (state.revision !== undefined && lastRevision !== undefined && state.revision < lastRevision)
            this.logger.warn({
              code: 'WEFT_WARN_WATCH_RELIST',
              message: `${this.name}: the registry's revision went back from ${lastRevision} to ${state.revision} (it restarted); its current state replaces the old one`,
              source: this.name,
            });
          lastRevision = state.revision;
          lastText = state.text;
          failing = false;
          observer.next({ instances, ...(state.revision === undefined ? {} : { revision: state.revision }) });
          return true;
        },
        error: (error) => {
          failing = true;
          observer.error(error);
        },
      },
      { source: this.name, logger: this.logger },
    );
    this.followers.add(follower);
    follower.start();
    const unsubscribe = (): void => {
      if (!this.followers.delete(follower)) return;
      void follower.stop();
    };
    return { unsubscribe, [Symbol.dispose]: unsubscribe };
  }

  /** Ends every subscription and closes the source's connections. */
  async close(): Promise<void> {
    const followers = [...this.followers];
    this.followers.clear();
    await Promise.all(followers.map((f) => f.stop()));
    await this.http.close();
  }
}
