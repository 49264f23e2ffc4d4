import type { BackendResilienceSettings, RateLimitSettings } from '@weft/core';
import type { RetryPlan } from './retry-plan.js';
import type { LbPolicy } from './types.js';

/** The caller's identity, matched by rules' `match.source`. */
export interface MeshIdentity {
  /** Service name of the caller (`reviews`). */
  readonly name: string;
  /** Tags of the caller (`version=v2`). */
  readonly tags?: readonly string[];
}

/** Request headers as the router reads them (core's `RequestHeaders` shape). */
export type HeaderSource =
  | { get(lowerName: string): string | null | undefined }
  | Readonly<Record<string, string | readonly string[] | undefined>>;

/** What the router sees of a request. */
export interface RouteRequest {
  readonly service: string;
  readonly method: string;
  /** Path with query, as sent by the caller. */
  readonly path: string;
  /**
   * The request headers, read lazily: a `get(lowerName)` object or a record with lower-case
   * names (node:http's `req.headers`). Compatible with core's `RequestHeaders`.
   */
  readonly headers: HeaderSource;
  readonly source: MeshIdentity | undefined;
}

/** An abort fault that resets the caller's connection instead of answering (Amalgam8's `-1`). */
export const RESET_FAULT = -1;

/** A fault rolled for one attempt. */
export interface AttemptFault {
  /** Delay before the attempt, ms. */
  readonly delayMs?: number;
  /**
   * Answer the attempt with this status instead of calling upstream, or {@link RESET_FAULT} to
   * reset the connection (Amalgam8's `return_code: -1`).
   */
  readonly abort?: number;
  /** Key/values for the call's access-log record (Amalgam8's `trace` action). */
  readonly traces?: ReadonlyArray<{ readonly key: string; readonly value: string }>;
}

/**
 * What the router decided for one request: which backend subset, how to balance within it, the
 * timeouts and retries, a path rewrite, and the faults to roll per attempt.
 */
export interface RoutePlan {
  /** Id of the route rule that matched (for logs and explain), if any. */
  readonly ruleId?: string;
  /** Instances must carry all of these tags. Empty: every instance of the service. */
  readonly backendTags: readonly string[];
  /** A label of the backend for logs. */
  readonly backendName?: string;
  readonly lbPolicy?: LbPolicy;
  /**
   * The backend's resilience settings (a rule backend's `resilience` block, defaulted): its own
   * breakers, outlier ejection, pool connections and concurrency cap instead of the agent's.
   * Keep the object stable per backend (the engine caches by identity, then by content).
   */
  readonly resilience?: BackendResilienceSettings;
  /**
   * The backend's token-bucket rate limit (a rule backend's `rate_limit`), checked before an
   * endpoint is picked; without one the proxy's `rateLimit` option applies, if any. Keep the
   * object stable per backend (the engine finds its buckets by identity).
   */
  readonly rateLimit?: RateLimitSettings;
  /** Affinity key for consistent-hash pickers. */
  readonly hashKey?: string;
  /** Overall timeout to response headers, ms. */
  readonly timeoutMs?: number;
  readonly retry?: RetryPlan;
  /** The path to send upstream, when a rule rewrote it. */
  readonly path?: string;
  /**
   * Mirror this request (fire-and-forget, response discarded) to an instance of the service
   * carrying all of `tags`. The router has already drawn the mirror's percentage: set it only
   * on the requests to mirror.
   */
  readonly mirror?: { readonly tags: readonly string[] };
  /**
   * Rolls the faults of attempt `attempt` (1-based) against the tags of the instance it goes to,
   * so an action tagged `version=v1` only hits attempts that reach a v1 instance.
   */
  readonly fault?: (attempt: number, instanceTags: readonly string[]) => AttemptFault | undefined;
}

/** Why a request could not be routed. */
export type RouteFailure =
  /** Route rules exist for the destination but none matched (Amalgam8's 412). */
  { readonly failure: 'no-route'; readonly message: string };

/**
 * Turns a request into a {@link RoutePlan}. Weft's rule engine provides one through
 * {@link rulesRouter}; the default routes every request to every instance.
 */
export interface Router {
  /** Whether the router has anything to say about `service` (when false, the default plan is used without evaluating). */
  has(service: string): boolean;
  /** Routes a request. */
  route(request: RouteRequest): RoutePlan | RouteFailure;
  /** Explains the decision for a request (admin `/debug/explain`). */
  explain?(request: RouteRequest): unknown;
  /** Services named by rules (they count as mesh services even before any instance registers). */
  services?(): readonly string[];
  /** Grows whenever the rules change, so callers can drop what they cached about `services()`. */
  readonly version?: number;
}

/** True when `r` is a {@link RouteFailure}. */
export function isRouteFailure(r: RoutePlan | RouteFailure): r is RouteFailure {
  return (r as RouteFailure).failure !== undefined;
}

const NO_TAGS: readonly string[] = Object.freeze([]);

/** The plan used when no rule applies: every instance, the agent's default retries and timeout. */
export function defaultPlan(retry: RetryPlan | undefined, timeoutMs: number | undefined): RoutePlan {
  return Object.freeze({
    backendTags: NO_TAGS,
    ...(retry === undefined ? {} : { retry }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });
}
