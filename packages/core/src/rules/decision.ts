import type { LbPolicy } from '../balancers/registry.js';
import type { RateLimitSettings } from './rate-limit.js';
import type { BackendResilience } from './resilience.js';
import type { RetrySettings } from './retry.js';

/**
 * The outcome of evaluating a request:
 * - `route`: a route rule matched; send to {@link Decision.backend}.
 * - `no_rules`: the destination has no route rules (it may have action rules); balance across
 *   all of its instances.
 * - `no_match`: the destination has route rules but none matched; answer 412
 *   (`WEFT_ERR_NO_ROUTE`, see `NoRouteError`).
 */
export type DecisionStatus = 'route' | 'no_rules' | 'no_match';

/** Identifies a rule in decisions, explanations and lint findings. */
export interface RuleInfo {
  /** The rule's id, if it has one. */
  readonly id: string | undefined;
  /** Position in the input list (`rules[index]`). */
  readonly index: number;
  readonly priority: number;
  readonly destination: string;
  readonly kind: 'route' | 'actions';
  /** The rule's own tags (labels for selecting rules, not instance tags). */
  readonly tags: readonly string[];
}

/** Where a consistent-hash backend reads the request's affinity key. */
export interface HashKeySource {
  readonly kind: 'header' | 'cookie' | 'query' | 'source_ip';
  /** Header (lower-case), cookie or parameter name; empty for `source_ip`. */
  readonly name: string;
}

/** The backend a request goes to: a subset of the destination's instances plus how to use it. */
export interface DecisionBackend {
  /** The backend's label, if any. */
  readonly name: string | undefined;
  /** Instances must carry all of these (empty: every instance). */
  readonly tags: readonly string[];
  /** Its traffic share after normalisation, 0..1. */
  readonly share: number;
  /** Position in the rule's `route.backends`. */
  readonly index: number;
  /** Load-balancing policy among the subset. */
  readonly lbType: LbPolicy;
  /** Where `ring_hash` / `maglev` read the key; undefined for other policies. */
  readonly hashKeySource: HashKeySource | undefined;
  /** Circuit-breaker / outlier settings; undefined when the rule gave none (mesh defaults apply). */
  readonly resilience: BackendResilience | undefined;
  /** Token-bucket rate limit (the backend's `rate_limit`); undefined when the rule gave none. */
  readonly rateLimit: RateLimitSettings | undefined;
}

/** Traffic mirroring chosen for this request. */
export interface MirrorDecision {
  /** Mirror instances carry all of these. */
  readonly tags: readonly string[];
  /** The configured share, 0..100 (this request was already drawn into it). */
  readonly percentage: number;
}

interface FaultBase {
  /** The action rule the fault comes from. */
  readonly rule: RuleInfo;
  /** Chance, 0..1, that the fault applies to one attempt. */
  readonly probability: number;
  /** The instance an attempt goes to must carry all of these. */
  readonly tags: readonly string[];
}

/** Delay an attempt by `delayMs` before forwarding it. */
export interface DelayFault extends FaultBase {
  readonly kind: 'delay';
  readonly delayMs: number;
}

/** Abort an attempt: answer `status`, or reset the connection. */
export interface AbortFault extends FaultBase {
  readonly kind: 'abort';
  /** As written: an HTTP status, or -5..-1. */
  readonly returnCode: number;
  /** True for negative return codes: close the connection without a response. */
  readonly reset: boolean;
  /** The status to answer; undefined when `reset`. */
  readonly status: number | undefined;
}

/** Add `key: value` to the access-log record of an attempt. */
export interface TraceFault extends FaultBase {
  readonly kind: 'trace';
  readonly key: string;
  readonly value: string;
}

/** An action of a matching action rule, not yet rolled (see `faultsForAttempt`). */
export type FaultAction = DelayFault | AbortFault | TraceFault;

/**
 * What to do with a request. Policy settings are resolved (rule values or the compile
 * defaults), so the proxy never needs the rule itself. Faults are *not* rolled here: the proxy
 * calls `faultsForAttempt` for every attempt, so retries can recover from an injected abort.
 */
export interface Decision {
  readonly status: DecisionStatus;
  /** The route rule that matched (`route` only). */
  readonly rule: RuleInfo | undefined;
  /** Where to send: the chosen backend, the whole destination for `no_rules`, undefined for `no_match`. */
  readonly backend: DecisionBackend | undefined;
  /** The request's affinity key for `ring_hash` / `maglev`; undefined when absent (the picker then picks at random). */
  readonly hashKey: string | undefined;
  /** Overall request timeout, ms. */
  readonly timeoutMs: number;
  /** Retry settings. */
  readonly retries: RetrySettings;
  /** The path to forward when a prefix rewrite applies (query string kept), else undefined. */
  readonly rewritePath: string | undefined;
  /** Mirroring, when this request was drawn into it. */
  readonly mirror: MirrorDecision | undefined;
  /**
   * Actions of the action rules that matched this request, in rule order. Whether each applies
   * to an attempt depends on the tags of the instance the attempt goes to and on a probability
   * roll: `faultsForAttempt`. Empty for `no_match` (the request is refused).
   */
  readonly actions: readonly FaultAction[];
}
