/**
 * `@weft/adapters/testkit` — the conformance kit every Weft adapter passes. Run it against your
 * own adapter to check that it delivers complete snapshots, sees changes and deletions, skips bad
 * data, and recovers after its server restarts or its connection is cut, within bounded time.
 * Framework-agnostic: the cases are plain `{name, run}` objects; `describe*Conformance` binds
 * them to vitest, jest or node:test. See `docs/write-an-adapter.md`.
 *
 * @packageDocumentation
 * @module @weft/adapters/testkit
 */

export {
  type CaseResult,
  describeRegistryConformance,
  describeSourceConformance,
  runCase,
  runConformance,
} from './describe.js';
export {
  ConformanceError,
  check,
  describeInstances,
  findEndpoint,
  matches,
  SnapshotRecorder,
} from './recorder.js';
export { registryConformanceCases } from './registry-cases.js';
export { has as hasRecord, lacks as lacksRecord, record, sourceConformanceCases } from './source-cases.js';
export type {
  ConformanceCase,
  ConformanceOptions,
  RegistryFeatures,
  RegistryFixture,
  RegistrySuite,
  SourceFeatures,
  SourceFixture,
  SourceSuite,
  TestApi,
  TestRecord,
  WarningLike,
} from './types.js';
