/** Health checks gating the sidecar's registration: http, https, tcp and command probes with thresholds. */
export { HealthMonitor, type HealthMonitorEvents } from './monitor.js';
export type {
  HealthCheck,
  HealthCheckSpec,
  HealthCheckStatus,
  HealthCheckTiming,
  HealthReport,
} from './types.js';
