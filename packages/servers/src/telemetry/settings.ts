import { InvalidArgumentError, type ValidationIssue } from '@weft/core';

/**
 * The telemetry limits of a controller (and the control plane), as plain data: every field
 * optional, the defaults those the servers always had. `weft controller` / `weft control-plane`
 * build it from their `telemetry.*` settings.
 */
export interface TelemetrySettings {
  /**
   * Take and serve streamed access-log records (`POST` / `GET /v1/telemetry/access-log`,
   * `GET /v1/topology`). Default true. Off, those routes answer 404 `WEFT_ERR_NOT_FOUND`, which a
   * sidecar's `AccessLogStream` treats as a server without the route (drops, asks again later).
   */
  readonly enabled?: boolean | undefined;
  /** Access-log records kept per namespace (the ring). Default 10 000. */
  readonly recordsPerNamespace?: number | undefined;
  /** Most records one `POST /v1/telemetry/access-log` may carry. Default 2000, at least 500. */
  readonly maxBatchRecords?: number | undefined;
  /** Recipe runs kept per namespace. Default 50. */
  readonly runsPerNamespace?: number | undefined;
  /** Namespaces whose telemetry is kept (the least recently written dropped beyond). Default 256. */
  readonly maxNamespaces?: number | undefined;
  /** Window of `GET /v1/topology` without `?window=`, seconds. Default 60. */
  readonly topologyWindowS?: number | undefined;
  /** Longest `?window=` accepted, seconds. Default 3600. */
  readonly topologyMaxWindowS?: number | undefined;
  /** Revisions `GET /v1/rules/history` lists per namespace. Default 20. */
  readonly rulesHistory?: number | undefined;
}

/** {@link TelemetrySettings} with every default applied. */
export type ResolvedTelemetry = { readonly [K in keyof TelemetrySettings]-?: NonNullable<TelemetrySettings[K]> };

/**
 * Default, least and greatest value of each limit. The maxima keep one setting from taking the
 * process's memory: a ring of 1 000 000 records is ~1 GB per namespace already.
 */
export const TELEMETRY_BOUNDS = {
  recordsPerNamespace: { default: 10_000, min: 1, max: 1_000_000 },
  // A weft sidecar sends up to 500 records a batch: a smaller limit would refuse its batches whole.
  maxBatchRecords: { default: 2000, min: 500, max: 10_000 },
  runsPerNamespace: { default: 50, min: 1, max: 10_000 },
  maxNamespaces: { default: 256, min: 1, max: 100_000 },
  topologyWindowS: { default: 60, min: 1, max: 86_400 },
  topologyMaxWindowS: { default: 3600, min: 1, max: 86_400 },
  rulesHistory: { default: 20, min: 1, max: 1000 },
} as const satisfies Record<Exclude<keyof TelemetrySettings, 'enabled'>, { default: number; min: number; max: number }>;

/**
 * Every default applied, every limit checked.
 *
 * @throws InvalidArgumentError naming each bad field (`telemetry.recordsPerNamespace`).
 */
export function resolveTelemetry(settings: TelemetrySettings = {}): ResolvedTelemetry {
  const issues: ValidationIssue[] = [];
  const limit = (key: keyof typeof TELEMETRY_BOUNDS): number => {
    const bounds = TELEMETRY_BOUNDS[key];
    const value = settings[key] ?? bounds.default;
    if (!Number.isSafeInteger(value) || value < bounds.min || value > bounds.max) {
      issues.push({
        path: `telemetry.${key}`,
        message: `must be a whole number from ${bounds.min} to ${bounds.max} (got ${String(value)})`,
      });
      return bounds.default;
    }
    return value;
  };
  const enabled = settings.enabled ?? true;
  if (typeof enabled !== 'boolean') issues.push({ path: 'telemetry.enabled', message: 'must be true or false' });
  const resolved: ResolvedTelemetry = {
    enabled: enabled !== false,
    recordsPerNamespace: limit('recordsPerNamespace'),
    maxBatchRecords: limit('maxBatchRecords'),
    runsPerNamespace: limit('runsPerNamespace'),
    maxNamespaces: limit('maxNamespaces'),
    topologyWindowS: limit('topologyWindowS'),
    topologyMaxWindowS: limit('topologyMaxWindowS'),
    rulesHistory: limit('rulesHistory'),
  };
  if (issues.length === 0 && resolved.topologyWindowS > resolved.topologyMaxWindowS)
    issues.push({ path: 'telemetry.topologyWindowS', message: 'must not exceed telemetry.topologyMaxWindowS' });
  if (issues.length > 0) throw new InvalidArgumentError('telemetry options', issues);
  return resolved;
}
