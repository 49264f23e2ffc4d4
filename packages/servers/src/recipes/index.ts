/**
 * Resilience recipes: Amalgam8's Gremlin recipes (topology, scenarios, checks) run against a
 * live Weft mesh — faults as controller action rules scoped to the run, load through the entry,
 * checks over the proxies' own access-log records, every rule removed afterwards.
 *
 * @packageDocumentation
 */
export {
  type AccessLogEntry,
  RecentAccessLog,
  type RecentAccessLogAnswer,
  type RecentAccessLogQuery,
} from '../agent/recent-access-log.js';
export { type CheckNeed, type CheckResult, type PreparedCheck, prepareCheck, replayBreaker } from './checks.js';
export {
  type CompiledScenarios,
  type CompileOptions,
  compileScenarios,
  RECIPE_LOG_KEY,
  type RecipeRule,
} from './compile.js';
export {
  type ControlPlaneGet,
  controlPlaneAccessLogSource,
  httpControlPlaneAccessLogSource,
  TELEMETRY_ACCESS_LOG_PATH,
} from './control-plane-source.js';
export { formatMs, parseGremlinDuration } from './duration.js';
export { formatRef, parseServiceRef, type RecipeInstance, type ServiceRef } from './endpoint.js';
export { parseRecipePart, type RecipePart, readRecipeFile } from './files.js';
export { type LoadOutcome, type LoadProgress, type LoadResult, type LoadSpec, loadTotal, runLoad } from './load.js';
export {
  type AccessLogAnswer,
  type AccessLogQuery,
  type AccessLogSource,
  type Collected,
  collectRecords,
  httpAccessLogSource,
  memoryAccessLogSource,
  onEdge,
  type ProxyReading,
  type RunRecord,
  toRunRecord,
} from './records.js';
export { type HttpRulesApiOptions, httpRulesApi, type RecipeRulesApi } from './rules-api.js';
export {
  type LoadSummary,
  newRunId,
  type Recipe,
  type RecipeEvent,
  RecipeInterruptedError,
  type RecipeReport,
  type RunRecipeOptions,
  runRecipe,
} from './run.js';
export {
  CHECK_NAMES,
  type Check,
  type ChecksFile,
  type Gremlin,
  SCENARIO_KINDS,
  type ScenarioKind,
  type ScenariosFile,
  type TopologyFile,
} from './schemas.js';
export { type Edge, Topology } from './topology.js';
