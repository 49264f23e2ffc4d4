import { type Authorizer, compileAuthorization, type Subscription, type ValidationIssue } from '@weft/core';
import { type AdapterLogger, describeError, processWarningLogger } from '../internal/log.js';
import { type ControlPlaneConnectionOptions, throwIfIssues } from './connection-options.js';
import { hasStatus } from './errors.js';
import type { FollowOptions } from './follow-options.js';
import { FollowedRead, resolveFollowingSource } from './followed-read.js';
import type { FollowedState } from './follower.js';

/** Options of {@link WeftAuthorizationSource}. */
export interface WeftAuthorizationSourceOptions extends ControlPlaneConnectionOptions, FollowOptions {
  /** Name in logs. Default `weft-authorization:<namespace>`. */
  name?: string;
  /** Where warnings go (rejected policy sets, a controller without policies). Default: Node process warnings. */
  logger?: AdapterLogger;
}

/** What {@link WeftAuthorizationSource.follow} feeds: a `Sidecar` or `MeshAgent` of `@weft/proxy`, or anything with `setAuthorization`. */
export interface AuthorizationTarget {
  setAuthorization(authorization: Authorizer | undefined): void;
}

/** Options of {@link WeftAuthorizationSource.follow}. */
export interface AuthorizationFollowOptions {
  /** Called after the target got a new policy set (`revision`: the controller's). */
  onUpdate?: (revision: number | undefined) => void;
  /** Called for every failure; the target keeps the policies it has. */
  onError?: (error: Error) => void;
}

const AUTHORIZATION_PATH = '/v1/authorization';

function revisionOf(state: FollowedState): number | undefined {
  const r = state.revision ?? (state.body as { revision?: unknown } | null | undefined)?.revision;
  return typeof r === 'number' && Number.isSafeInteger(r) && r >= 0 ? r : undefined;
}

/** The policies of a `GET /v1/authorization` body (its `revision` is not part of them). */
function documentOf(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const { revision: _revision, ...document } = body as Record<string, unknown>;
  return document;
}

/**
 * Follows a Weft controller's authorization policies for a namespace (`GET /v1/authorization`,
 * Server-Sent Events with the same fallbacks as {@link WeftRulesSource}) and puts every newer
 * revision, compiled, in force in its target with `setAuthorization` — whole, so a request is
 * judged by one revision or the next. A revision that does not validate is reported and not
 * applied (the policies in force stay: failing open would let denied traffic through, failing
 * closed would cut every caller for a typo). A controller that serves no policies at all (404:
 * Amalgam8's, or an older Weft) is reported once and no longer asked.
 *
 * ```ts
 * const policies = new WeftAuthorizationSource({ url: 'http://controller:8080' });
 * policies.follow(gateway);                       // gateway.setAuthorization(authorizer) per revision
 * ```
 */
export class WeftAuthorizationSource {
  readonly name: string;
  private readonly logger: AdapterLogger;
  private readonly read: FollowedRead;

  constructor(options: WeftAuthorizationSourceOptions) {
    const issues: ValidationIssue[] = [];
    const { connection, follow } = resolveFollowingSource(options, issues);
    throwIfIssues('Weft authorization source options', issues);
    this.name = options.name ?? `weft-authorization:${connection.namespace}`;
    this.logger = options.logger ?? processWarningLogger;
    this.read = new FollowedRead(connection, AUTHORIZATION_PATH, follow, { source: this.name, logger: this.logger });
  }

  /** Keeps `target` on the controller's latest policies. */
  follow(target: AuthorizationTarget, options: AuthorizationFollowOptions = {}): Subscription {
    let applied: number | undefined;
    let rejected: number | undefined;
    let unsupported = false;
    const subscription: Subscription = this.read.subscribe({
      state: (state) => {
        const revision = revisionOf(state);
        if (revision !== undefined && applied !== undefined && revision <= applied) return revision === applied;
        if (revision !== undefined && revision === rejected) return true;
        let authorizer: Authorizer;
        try {
          authorizer = compileAuthorization(documentOf(state.body));
        } catch (err) {
          rejected = revision;
          this.logger.warn({
            code: 'WEFT_WARN_WEFT_BAD_AUTHORIZATION',
            message: `${this.name}: revision ${revision ?? '(none)'} of the authorization policies does not validate; the policies in force stay: ${describeError(err)}`,
            source: this.name,
            cause: err,
          });
          options.onError?.(err instanceof Error ? err : new Error(String(err)));
          return true;
        }
        target.setAuthorization(authorizer);
        applied = revision;
        options.onUpdate?.(revision);
        return true;
      },
      error: (error) => {
        if (hasStatus(error, 404) && !unsupported) {
          unsupported = true;
          this.logger.warn({
            code: 'WEFT_WARN_WEFT_BAD_AUTHORIZATION',
            message: `${this.name}: the controller serves no authorization policies (404 on ${AUTHORIZATION_PATH}: an Amalgam8 or older Weft controller); none are enforced`,
            source: this.name,
          });
          // Not worth asking again: the controller does not have the API.
          queueMicrotask(() => subscription.unsubscribe());
          return;
        }
        options.onError?.(error);
      },
    });
    return subscription;
  }

  /** Ends every subscription and closes the source's connections. */
  async close(): Promise<void> {
    await this.read.close();
  }
}
