/**
 * The control plane's observability: access-log records streamed by the sidecars and agents
 * (`POST /v1/telemetry/access-log`), kept in memory per namespace, read back filtered and as the
 * live call graph (`GET /v1/topology`), and recipe runs' reports (`/v1/recipes/runs`).
 *
 * @packageDocumentation
 */
export {
  AccessLogBatchSchema,
  AccessLogRecordSchema,
  accessLogBatchSchema,
  type IngestedRecord,
  parseAccessLogBatch,
} from './access-log-batch.js';
export { readStream, type StreamAnswer, type StreamQuery, streamQueryOf } from './access-log-query.js';
export { AccessLogRing, type HeldRecord, type Party, parseParty, type RingView } from './access-log-ring.js';
export { type RecipeRun, RecipeRunSchema, RecipeRuns, type RecipeRunsView } from './recipe-runs.js';
export {
  type RegisteredCatalogue,
  type RegisteredService,
  RegisteredVersions,
  type RegisteredVersionsOptions,
} from './registered-versions.js';
export { type TelemetryRoutesOptions, telemetryRoutes } from './routes.js';
export {
  RulesHistory,
  type RulesHistoryRoutesOptions,
  type RulesHistoryView,
  type RulesRevision,
  rulesHistoryRoutes,
} from './rules-history.js';
export { type ResolvedTelemetry, resolveTelemetry, TELEMETRY_BOUNDS, type TelemetrySettings } from './settings.js';
export { TelemetryHub, type TelemetryHubOptions } from './telemetry-hub.js';
export {
  buildTopology,
  type TopologyEdge,
  type TopologyEndpoint,
  type TopologyNode,
  type TopologyView,
  type TopologyWindows,
} from './topology.js';
