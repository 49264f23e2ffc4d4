/**
 * Every shape the dashboard reads from or sends to the control plane, in one file, so the server's
 * answers and the client's expectations can be compared (and reconciled) in one place.
 *
 * Registry and controller shapes are those of the routes in src/registry and src/controller.
 * Topology, recipe runs and rule history are the shapes agreed for the telemetry endpoints
 * (`GET /v1/topology`, `GET /v1/recipes/runs`, `GET /v1/rules/history`); the dashboard shows a
 * "not available" panel where a server does not have them (404).
 */
import type { AuthorizationPolicy, AuthzExplanation, Explanation, LintFinding } from '@weft/core';

// ——— Registry (`/api/v1`) ———

/** An instance as Amalgam8's registry lists it (`GET /api/v1/instances?status=ALL`). */
export interface WireInstance {
  readonly id: string;
  readonly service_name?: string;
  readonly endpoint: { readonly type: string; readonly value: string };
  readonly ttl?: number;
  /** `UP`, `STARTING`, `OUT_OF_SERVICE`. */
  readonly status?: string;
  /** Mirrored instances carry `weft.source` (`consul`, `etcd`, `kubernetes`, `weave`, `file`) and `weft.mirror`. */
  readonly metadata?: Readonly<Record<string, unknown>>;
  /** RFC 3339 with nanoseconds, as Go rendered it. */
  readonly last_heartbeat?: string;
  readonly tags?: readonly string[];
}

/** `GET /api/v1/instances`. */
export interface InstancesAnswer {
  readonly instances: readonly WireInstance[];
}

// ——— Controller (`/v1/rules`) ———

/** A stored rule: core's rule model with an id. Loosely typed: the editor shows it as text. */
export interface StoredRule {
  readonly id: string;
  readonly destination: string;
  readonly priority?: number;
  readonly tags?: readonly string[];
  readonly match?: unknown;
  readonly route?: unknown;
  readonly actions?: unknown;
  readonly [field: string]: unknown;
}

/** `GET /v1/rules`. */
export interface RulesAnswer {
  readonly rules: readonly StoredRule[];
  readonly revision: number;
}

/** A write's lint remark (`src/controller/warnings.ts`'s `RuleWarning`). */
export interface RuleWarning {
  readonly code: string;
  readonly severity: 'warning' | 'info';
  readonly message: string;
  readonly id: string;
  readonly path?: string;
}

/** `POST`/`PUT /v1/rules`: 201/200. */
export interface WriteAnswer {
  readonly ids: readonly string[];
  readonly removed: readonly string[];
  readonly revision: number;
  readonly warnings: readonly RuleWarning[];
}

/** One problem of a refused request, named by its JSON path (`rules[0].route.backends[0].weight`). */
export interface ErrorIssue {
  readonly path: string;
  readonly message: string;
}

/** Every error body of the servers (`{error, code, status, issues?, ids?}`). */
export interface ErrorBody {
  readonly error: string;
  readonly code?: string;
  readonly status?: number;
  readonly issues?: readonly ErrorIssue[];
  readonly ids?: readonly string[];
}

/** `POST /v1/rules/explain`'s body. */
export interface ExplainRequest {
  readonly destination: string;
  readonly source?: { readonly name?: string; readonly tags?: readonly string[]; readonly ip?: string };
  readonly method?: string;
  readonly path?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly seed?: number;
}

/** `POST /v1/rules/explain`'s answer: core's Explanation as JSON, its revision and text. */
export type ExplainAnswer = Explanation & { readonly revision: number; readonly text: string };

/** A finding of core's `lint`, run in the browser as the controller runs it. */
export type LintRemark = LintFinding;

/** One revision of `GET /v1/rules/history?limit=`. */
export interface RulesHistoryEntry {
  readonly revision: number;
  /** When it was written: RFC 3339 or epoch ms. */
  readonly at: string | number;
  readonly rules: readonly StoredRule[];
}

/**
 * `GET /v1/rules/history?limit=`: the namespace's last revisions, newest first. (The client also
 * reads a bare list, the shape first agreed: `logic/history.ts`'s `historyEntries`.)
 */
export interface RulesHistoryAnswer {
  readonly revisions: readonly RulesHistoryEntry[];
  readonly index?: number;
}

// ——— Authorization (`/v1/authorization`) ———

/**
 * `GET /v1/authorization` (src/controller/authorization-routes.ts's `AuthorizationView`): core's
 * authorization document as the proxies apply it — the defaults (`allow`, no policies) when none
 * was set — at the namespace's revision (one revision for rules and policies).
 */
export interface AuthorizationAnswer {
  readonly defaultAction: 'allow' | 'deny';
  readonly policies: readonly AuthorizationPolicy[];
  readonly revision: number;
}

/** `POST /v1/authorization/explain`'s body (core's `parseAuthzRequest` input). */
export interface AuthzExplainRequest {
  readonly destination: string;
  readonly method?: string;
  readonly path?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** The caller: its address, its identity as a SPIFFE ID (`spiffe://weft.local/ns/default/svc/productpage`), its tags. */
  readonly peer?: { readonly ip?: string; readonly identity?: string; readonly tags?: readonly string[] };
}

/** `POST /v1/authorization/explain`'s answer: core's AuthzExplanation as JSON and the revision it was judged at. */
export type AuthzExplainAnswer = AuthzExplanation & { readonly revision: number };

// ——— Telemetry (`/v1/topology`) ———

/** A caller or callee of an edge; `version` absent for the service as a whole. */
export interface TopologyEndpoint {
  readonly service: string;
  readonly version?: string;
}

/** A service of the call graph with the versions seen (its instances' or its calls'). */
export interface TopologyNode {
  readonly service: string;
  readonly versions: readonly string[];
  /** Instances registered now. */
  readonly instances: number;
}

/** Calls from one (version of a) service to another over the window. */
export interface TopologyEdge {
  readonly source: TopologyEndpoint;
  readonly destination: TopologyEndpoint;
  readonly requestsPerSecond: number;
  /** 0–1: share of the calls answered 5xx or not at all. */
  readonly errorRate: number;
  readonly p99Ms: number;
  /** 0–1: this edge's share of the calls from `source.service` to `destination.service`. */
  readonly share: number;
  /** Calls in the window. */
  readonly requests?: number;
}

/** `GET /v1/topology?window=60`. */
export interface TopologyAnswer {
  readonly nodes: readonly TopologyNode[];
  readonly edges: readonly TopologyEdge[];
  /** Seconds the rates are averaged over. */
  readonly window: number;
  readonly index: number;
}

// ——— Recipes (`/v1/recipes/runs`) ———

/** One check's verdict (src/recipes/checks.ts's CheckResult). */
export interface RecipeCheckVerdict {
  readonly name: string;
  readonly subject?: string;
  readonly passed: boolean;
  readonly records?: number;
  readonly message?: string;
}

/** A run, finished or not (src/recipes/run.ts's RecipeReport, with its state). */
export interface RecipeRun {
  readonly runId: string;
  /** `running` while it is; a finished run has `passed`. */
  readonly state?: 'running' | 'passed' | 'failed' | 'interrupted' | 'error';
  readonly passed?: boolean;
  readonly startedAt?: string | number;
  /** When the control plane received the report (always set by the server). */
  readonly receivedAt?: string;
  readonly durationMs?: number;
  readonly checks: readonly RecipeCheckVerdict[];
  readonly faults?: readonly string[];
  readonly missing?: readonly string[];
  readonly error?: string;
}

/** `GET /v1/recipes/runs`: most recent first; `index` counts the runs received. */
export interface RecipeRunsAnswer {
  readonly runs: readonly RecipeRun[];
  readonly index?: number;
}
