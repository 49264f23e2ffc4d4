/** What a health check probes. */
export type HealthCheckSpec =
  | {
      type: 'http' | 'https';
      url: string;
      method?: string;
      /** The status that counts as healthy; default: any 2xx or 3xx. */
      expectStatus?: number;
      /** Skip TLS certificate verification (https): the app's own certificate is often self-signed. */
      insecure?: boolean;
    }
  | { type: 'tcp'; host: string; port: number }
  | { type: 'command'; cmd: readonly string[] };

/** When a check runs and when its result changes the app's health. */
export interface HealthCheckTiming {
  /** Time from the start of one probe to the start of the next, ms. Default 30 000 (Amalgam8's). */
  intervalMs?: number | undefined;
  /** A probe that takes longer fails (and a command is killed), ms. Default 5 000. */
  timeoutMs?: number | undefined;
  /** Consecutive successes before an unhealthy check counts as healthy. Default 1. */
  healthyThreshold?: number | undefined;
  /** Consecutive failures before a healthy check counts as unhealthy. Default 1. */
  unhealthyThreshold?: number | undefined;
}

/** A check as configured. `name` (shown in the report) defaults to its URL, `host:port` or command line. */
export type HealthCheck = HealthCheckSpec & HealthCheckTiming & { name?: string };

/** The state of one check, as the admin endpoint shows it. */
export interface HealthCheckStatus {
  name: string;
  type: string;
  healthy: boolean;
  /** Why the last failed probe failed; kept after later successes, for the record. */
  lastError?: string;
  /** When the last probe finished, epoch ms. */
  lastCheckAt?: number;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
}

export interface HealthReport {
  healthy: boolean;
  checks: HealthCheckStatus[];
}
