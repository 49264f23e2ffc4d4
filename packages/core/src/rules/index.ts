/**
 * Routing and fault rules: Amalgam8's `/v1/rules` model (route rules and action rules),
 * extended, compiled once into a {@link RuleSet} that decides per request.
 *
 * @module
 */

export { createRng, draw, type Rng } from '../random/rng.js';
export {
  AbortActionSchema,
  type ActionInput,
  ActionSchema,
  DelayActionSchema,
  TraceActionSchema,
} from './action-schema.js';
export { type CompileOptions, compile, DEFAULT_TIMEOUT_MS } from './compile.js';
export type { ConditionFailure } from './conditions.js';
export type {
  AbortFault,
  Decision,
  DecisionBackend,
  DecisionStatus,
  DelayFault,
  FaultAction,
  HashKeySource,
  MirrorDecision,
  RuleInfo,
  TraceFault,
} from './decision.js';
export { type Duration, DurationSchema, durationToMs } from './duration.js';
export { type BackendChoice, type Explanation, formatExplanation, type RuleTrace } from './explain.js';
export { type AttemptFaults, faultsForAttempt, NO_FAULTS, rollFaults } from './faults.js';
export { HASHING_LB_TYPES, LB_TYPES, LbTypeSchema } from './lb-type.js';
export { type LintCode, type LintFinding, type LintOptions, type LintSeverity, lint } from './lint.js';
export {
  HeaderMatchSchema,
  type Match,
  MatchSchema,
  PathMatchSchema,
  SourceMatchSchema,
  type StringMatch,
  StringMatchSchema,
} from './match-schema.js';
export { NoRouteError } from './no-route-error.js';
export { compareRules, type Orderable } from './order.js';
export { parseRules } from './parse.js';
export {
  DEFAULT_RATE_LIMIT_MAX_SOURCES,
  RATE_LIMIT_SOURCES,
  type RateLimitInput,
  RateLimitSchema,
  type RateLimitSettings,
  type RateLimitSource,
  toRateLimitSettings,
} from './rate-limit.js';
export type {
  HeaderRecord,
  RequestHeaders,
  RequestSource,
  RuleRequest,
  ValueGetter,
} from './request.js';
export {
  AMALGAM8_RESILIENCE_DEFAULTS,
  type BackendResilience,
  type CircuitBreakerSettings,
  type OutlierSettings,
} from './resilience.js';
export { DEFAULT_RETRY_ON, NO_RETRIES, type RetrySettings } from './retry.js';
export {
  BackendSchema,
  HashKeySchema,
  MirrorSchema,
  RETRY_CONDITIONS,
  ResilienceSchema,
  RetryPolicySchema,
  type RouteRetryCondition,
  RouteSchema,
  UriSchema,
} from './route-schema.js';
export {
  type Rule,
  type RuleInput,
  RuleSchema,
  type RulesDocument,
  type RulesDocumentInput,
  RulesDocumentSchema,
} from './rule-schema.js';
export { RuleSet } from './rule-set.js';
export { planWeights, type WeightPlan } from './weights.js';
