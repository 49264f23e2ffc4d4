import { type CompileOptions, compile, type RuleSet, type Subscription, type ValidationIssue } from '@weft/core';
import { type AdapterLogger, describeError, processWarningLogger } from '../internal/log.js';
import { type ControlPlaneConnectionOptions, throwIfIssues } from './connection-options.js';
import type { FollowOptions } from './follow-options.js';
import { FollowedRead, resolveFollowingSource } from './followed-read.js';
import type { FollowedState } from './follower.js';
import {
  followInto,
  type RulesFollow,
  type RulesFollowOptions,
  type RulesObserver,
  type RulesTarget,
} from './rules-follow.js';

export type { RulesObserver, RulesUpdate } from './rules-follow.js';

/** Options of {@link WeftRulesSource}. */
export interface WeftRulesSourceOptions extends ControlPlaneConnectionOptions, FollowOptions {
  /** Name in logs. Default `weft-rules:<namespace>`. */
  name?: string;
  /** Where warnings go (rejected rule sets, older revisions, fallbacks). Default: Node process warnings. */
  logger?: AdapterLogger;
  /**
   * How the controller's rules are compiled: defaults for routes that do not say (timeout,
   * retries, load-balancing policy). These are the defaults in force in a router fed by
   * {@link WeftRulesSource.follow}, since it receives compiled rule sets.
   */
  compile?: Omit<CompileOptions, 'revision'>;
}

/** The read every subscription follows: the namespace's whole rule set. */
const RULES_PATH = '/v1/rules';

/** The revision a rules body carries (`{rules, revision}`), when it is a whole number. */
function bodyRevision(body: unknown): number | undefined {
  const r = (body as { revision?: unknown } | null | undefined)?.revision;
  return typeof r === 'number' && Number.isSafeInteger(r) && r >= 0 ? r : undefined;
}

/**
 * Follows a Weft controller's (or an Amalgam8 controller's) rule set for a namespace — Server-Sent
 * Events, falling back to long-poll and then polling, as {@link WeftRegistrySource} does — and
 * hands every newer revision, compiled, to its subscribers. It never applies an older revision
 * than the one it has (a controller whose history started over is ignored, with a warning, until
 * it passes it), and never applies rules that do not compile: the last good rules stay in force
 * and the failure is reported. Given the replicas of a control plane (`url` as a list), it fails
 * over between them as {@link WeftRegistrySource} does.
 *
 * ```ts
 * const router = rulesRouter([]);                          // every request to every instance, until rules arrive
 * const rules = new WeftRulesSource({ url: 'http://controller:8080' });
 * const following = rules.follow(router);                 // router.update(ruleSet) on every new revision
 * const mesh = new MeshAgent({ discovery, router });
 * await following.ready();
 * ```
 */
export class WeftRulesSource {
  readonly name: string;
  private readonly compileOptions: Omit<CompileOptions, 'revision'>;
  private readonly logger: AdapterLogger;
  private readonly read: FollowedRead;

  constructor(options: WeftRulesSourceOptions) {
    const issues: ValidationIssue[] = [];
    const { connection, follow } = resolveFollowingSource(options, issues);
    const compileOptions = options?.compile ?? {};
    try {
      compile([], compileOptions); // checks the options once, here, rather than on every revision
    } catch (err) {
      issues.push({ path: 'compile', message: describeError(err) });
    }
    throwIfIssues('Weft rules source options', issues);
    this.name = options.name ?? `weft-rules:${connection.namespace}`;
    this.logger = options.logger ?? processWarningLogger;
    this.compileOptions = { ...compileOptions };
    this.read = new FollowedRead(connection, RULES_PATH, follow, { source: this.name, logger: this.logger });
  }

  /** Starts following the controller for `observer`: the current rules first, then every newer revision. */
  subscribe(observer: RulesObserver): Subscription {
    let applied: { revision: number | undefined; text: string } | undefined;
    /** The revision that did not compile: reported once, not again on every reconnect. */
    let rejected: number | undefined;
    let failing = false;
    const warnedBehind = new Set<number>();
    const recover = (): void => {
      if (!failing) return;
      failing = false;
      observer.recovered?.();
    };
    return this.read.subscribe({
      state: (state: FollowedState) => {
        const revision = state.revision ?? bodyRevision(state.body);
        if (applied !== undefined) {
          const known = applied.revision;
          if (revision !== undefined && known !== undefined && revision <= known) {
            if (revision < known && !warnedBehind.has(revision)) {
              warnedBehind.add(revision);
              this.logger.warn({
                code: 'WEFT_WARN_WEFT_REVISION_BEHIND',
                message: `${this.name}: the controller serves revision ${revision}, older than revision ${known} in force; keeping ${known} until it passes it`,
                source: this.name,
              });
            }
            recover();
            return revision === known; // an older one: keep resuming from ours
          }
          if (revision === undefined && state.text === applied.text) {
            recover();
            return true;
          }
        }
        if (revision !== undefined && revision === rejected) return true;
        let ruleSet: RuleSet;
        try {
          ruleSet = compile(state.body, { ...this.compileOptions, revision });
        } catch (err) {
          this.logger.warn({
            code: 'WEFT_WARN_WEFT_BAD_RULES',
            message: `${this.name}: revision ${revision ?? '(none)'} of the rules does not compile; the rules in force stay: ${describeError(err)}`,
            source: this.name,
            cause: err,
          });
          rejected = revision;
          failing = true;
          observer.error(err instanceof Error ? err : new Error(String(err)));
          return true; // seen: do not read it again, wait for the next one
        }
        applied = { revision, text: state.text };
        failing = false;
        observer.next({ ruleSet, revision });
        return true;
      },
      error: (error) => {
        failing = true;
        observer.error(error);
      },
    });
  }

  /**
   * Keeps `target` — a `rulesRouter` from `@weft/proxy`, or anything with `update(ruleSet)` — on
   * the controller's latest rules: `target.update(ruleSet)` for every newer revision. The target
   * keeps the last rules it got while the controller is away.
   */
  follow(target: RulesTarget, options: RulesFollowOptions = {}): RulesFollow {
    return followInto(this, target, options);
  }

  /** Ends every subscription and closes the source's connections. */
  async close(): Promise<void> {
    await this.read.close();
  }
}
