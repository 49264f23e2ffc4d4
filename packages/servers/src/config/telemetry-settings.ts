import * as z from 'zod/mini';
import { TELEMETRY_BOUNDS, type TelemetrySettings } from '../telemetry/settings.js';
import { section, setting } from './define.js';
import { DurationSchema } from './duration.js';

/** A whole number between `min` and `max`, each bound named in its message. */
const count = (what: string, min: number, max: number) =>
  z
    .number({ error: `must be a number of ${what}` })
    .check(
      z.int({ error: 'must be a whole number' }),
      z.minimum(min, { error: `must be at least ${min}` }),
      z.maximum(max, { error: `must be at most ${max}` }),
    );

const B = TELEMETRY_BOUNDS;

/**
 * The telemetry settings of the processes that serve the telemetry routes (`telemetry.*` of
 * `weft controller` and `weft control-plane`): what is kept in memory, and how much one request
 * may bring. Defaults are the limits the servers had before they were settings.
 */
export function telemetrySection() {
  return section(
    {
      enabled: setting(z.boolean({ error: 'must be true or false' }), {
        kind: 'boolean',
        description:
          'Take the access-log records the sidecars stream (POST /v1/telemetry/access-log) and serve them (GET /v1/telemetry/access-log, GET /v1/topology); off, those routes answer 404 WEFT_ERR_NOT_FOUND, which sidecars treat as a server without the route (records dropped, asked again a minute later)',
        default: true,
      }),
      ringSize: setting(count('records', B.recordsPerNamespace.min, B.recordsPerNamespace.max), {
        kind: 'integer',
        placeholder: '<records>',
        description:
          'Access-log records kept in memory per namespace (~1 KB each); the oldest are pushed out (weft_telemetry_records_evicted_total)',
        default: B.recordsPerNamespace.default,
      }),
      maxBatch: setting(count('records', B.maxBatchRecords.min, B.maxBatchRecords.max), {
        kind: 'integer',
        placeholder: '<records>',
        description: `Most records one POST /v1/telemetry/access-log may carry (400 beyond); at least ${B.maxBatchRecords.min}, what a weft sidecar sends in one batch. The body may be 2 MiB, or 1 KiB a record when more`,
        default: B.maxBatchRecords.default,
      }),
      recipeRuns: setting(count('runs', B.runsPerNamespace.min, B.runsPerNamespace.max), {
        kind: 'integer',
        placeholder: '<runs>',
        description: 'Recipe run reports kept per namespace (GET /v1/recipes/runs), the newest',
        default: B.runsPerNamespace.default,
      }),
      maxNamespaces: setting(count('namespaces', B.maxNamespaces.min, B.maxNamespaces.max), {
        kind: 'integer',
        placeholder: '<n>',
        description:
          "Namespaces whose telemetry is kept; beyond, the least recently written one's is dropped (weft_telemetry_namespaces_dropped_total)",
        default: B.maxNamespaces.default,
      }),
      topologyWindow: setting(DurationSchema, {
        kind: 'duration',
        description: 'Window of GET /v1/topology when the request gives no ?window= (whole seconds)',
        default: '1m',
      }),
      topologyMaxWindow: setting(DurationSchema, {
        kind: 'duration',
        description: `Longest ?window= GET /v1/topology accepts (whole seconds, at most ${B.topologyMaxWindowS.max / 3600}h): a longer window needs a ring that holds it`,
        default: '1h',
      }),
      rulesHistory: setting(count('revisions', B.rulesHistory.min, B.rulesHistory.max), {
        kind: 'integer',
        placeholder: '<revisions>',
        description:
          'Revisions of each namespace GET /v1/rules/history lists: kept in memory for memory and file stores, read back from etcd for an etcd store',
        default: B.rulesHistory.default,
      }),
    },
    "The control plane's telemetry: streamed access-log records, the topology, recipe runs and rules history, kept in memory",
  );
}

/** The validated telemetry settings (durations in ms). */
export type TelemetryConfig = z.output<ReturnType<typeof telemetrySection>>;

/** The cross-field rules of the telemetry settings: the topology windows are whole seconds, the default within the longest. */
export function checkTelemetry(
  telemetry: TelemetryConfig,
  issue: (path: readonly string[], message: string) => void,
): void {
  const windows = [
    ['topologyWindow', telemetry.topologyWindow],
    ['topologyMaxWindow', telemetry.topologyMaxWindow],
  ] as const;
  let whole = true;
  for (const [key, ms] of windows)
    if (ms < 1000 || ms % 1000 !== 0) {
      issue(['telemetry', key], 'must be a whole number of seconds, at least 1s');
      whole = false;
    }
  if (telemetry.topologyMaxWindow > B.topologyMaxWindowS.max * 1000)
    issue(['telemetry', 'topologyMaxWindow'], `must be at most ${B.topologyMaxWindowS.max / 3600}h`);
  else if (whole && telemetry.topologyWindow > telemetry.topologyMaxWindow)
    issue(['telemetry', 'topologyWindow'], 'must not exceed telemetry.topologyMaxWindow');
}

/** The servers' plain telemetry options from the settings (windows in seconds). */
export function telemetryPart(telemetry: TelemetryConfig): TelemetrySettings {
  return {
    enabled: telemetry.enabled,
    recordsPerNamespace: telemetry.ringSize,
    maxBatchRecords: telemetry.maxBatch,
    runsPerNamespace: telemetry.recipeRuns,
    maxNamespaces: telemetry.maxNamespaces,
    topologyWindowS: telemetry.topologyWindow / 1000,
    topologyMaxWindowS: telemetry.topologyMaxWindow / 1000,
    rulesHistory: telemetry.rulesHistory,
  };
}
