import type { Source, SourceObserver, Subscription, ValidationIssue } from '@weft/core';
import { type AdapterLogger, processWarningLogger, WarnOnce } from '../internal/log.js';
import { type ControlPlaneConnectionOptions, type ResolvedConnection, throwIfIssues } from './connection-options.js';
import type { FollowOptions } from './follow-options.js';
import { FollowedRead, resolveFollowingSource } from './followed-read.js';
import type { FollowedState } from './follower.js';
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
 * never ends by itself. Given the replicas of a control plane (`url` as a list), it fails over
 * between them without missing or repeating a change, and never lets a lagging replica take
 * its revision back (see {@link ControlPlaneConnectionOptions.url}).
 *
 * ```ts
 * const source = new WeftRegistrySource({ url: 'http://registry:8080', token: process.env.WEFT_TOKEN });
 * const discovery = new Discovery({ sources: [source] });
 * ```
 */
export class WeftRegistrySource implements Source {
  readonly name: string;
  private readonly connection: ResolvedConnection;
  private readonly logger: AdapterLogger;
  private readonly read: FollowedRead;

  constructor(options: WeftRegistrySourceOptions) {
    const issues: ValidationIssue[] = [];
    const { connection, follow } = resolveFollowingSource(options, issues);
    throwIfIssues('Weft registry source options', issues);
    this.connection = connection;
    this.name = options.name ?? `weft-registry:${connection.namespace}`;
    this.logger = options.logger ?? processWarningLogger;
    this.read = new FollowedRead(connection, INSTANCES_PATH, follow, { source: this.name, logger: this.logger });
  }

  subscribe(observer: SourceObserver): Subscription {
    const warnOnce = new WarnOnce(this.logger);
    let failing = false;
    let lastRevision: number | undefined;
    let lastText: string | undefined;
    return this.read.subscribe({
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
    });
  }

  /** Ends every subscription and closes the source's connections. */
  async close(): Promise<void> {
    await this.read.close();
  }
}
