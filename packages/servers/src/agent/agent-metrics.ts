import type { AccessLogStreamStats } from '@weft/adapters/weft';
import { type MetricFamily, renderFamilies } from '../metrics/exposition.js';
import type { HealthReport } from './health/index.js';
import type { RegistrationStatus } from './sidecar-registration.js';

/** What the agent's own gauges are read from, when scraped. */
export interface AgentState {
  /** The app's service name, when it has one (the `service` label). */
  readonly service: string | undefined;
  /** `sidecar` or `gateway`. */
  readonly mode: string;
  readonly registration: RegistrationStatus | undefined;
  readonly health: HealthReport | undefined;
  readonly draining: boolean;
  /** The rules revision the proxy follows, once it has one. */
  readonly rulesRevision: number | undefined;
  /** The access-log stream to the control plane, when the agent streams. */
  readonly stream?: AccessLogStreamStats | undefined;
}

/**
 * The sidecar agent's own metrics, after the proxy's (`proxy`, undefined without a proxy) on the
 * admin `/metrics`: `weft_agent_info{service,mode}` (always 1), `weft_agent_registered{service}` (1 registered, 0 not),
 * `weft_agent_registrations_total{service}`, `weft_agent_healthy{service}`,
 * `weft_agent_health_check_up{check,type}`,
 * `weft_agent_health_check_consecutive_failures{check}`, `weft_agent_draining`,
 * `weft_agent_rules_revision`. Built from the agent's state when scraped.
 */
export function agentMetricsText(proxy: string | undefined, state: AgentState): string {
  const service = { service: state.service ?? '' };
  const families: MetricFamily[] = [
    {
      // The app this proxy serves: dashboards join it on `instance` to label the proxy's calls
      // with their source service (the call graph's edges).
      name: 'weft_agent_info',
      help: "The sidecar's app: service name and mode (always 1).",
      type: 'gauge',
      samples: [{ labels: { ...service, mode: state.mode }, value: 1 }],
    },
  ];
  const registration = state.registration;
  if (registration !== undefined)
    families.push(
      {
        name: 'weft_agent_registered',
        help: 'Whether the app is registered now: 1 yes, 0 no (unhealthy, registering, deregistering).',
        type: 'gauge',
        samples: [{ labels: service, value: registration.state === 'registered' ? 1 : 0 }],
      },
      {
        name: 'weft_agent_registrations_total',
        help: 'Times the app was registered, re-registrations after an expiry included.',
        type: 'counter',
        samples: [{ labels: service, value: registration.registrations }],
      },
    );
  const health = state.health;
  if (health !== undefined)
    families.push(
      {
        name: 'weft_agent_healthy',
        help: "Whether the app's health checks pass: 1 yes, 0 no.",
        type: 'gauge',
        samples: [{ labels: service, value: health.healthy ? 1 : 0 }],
      },
      {
        name: 'weft_agent_health_check_up',
        help: 'Whether a health check passes now: 1 yes, 0 no.',
        type: 'gauge',
        samples: health.checks.map((c) => ({ labels: { check: c.name, type: c.type }, value: c.healthy ? 1 : 0 })),
      },
      {
        name: 'weft_agent_health_check_consecutive_failures',
        help: 'Failed probes of a health check in a row.',
        type: 'gauge',
        samples: health.checks.map((c) => ({ labels: { check: c.name }, value: c.consecutiveFailures })),
      },
    );
  families.push({
    name: 'weft_agent_draining',
    help: 'Whether the agent is stopping: 1 draining, 0 serving.',
    type: 'gauge',
    samples: [{ labels: {}, value: state.draining ? 1 : 0 }],
  });
  if (state.rulesRevision !== undefined)
    families.push({
      name: 'weft_agent_rules_revision',
      help: 'The rules revision the proxy routes on.',
      type: 'gauge',
      samples: [{ labels: {}, value: state.rulesRevision }],
    });
  if (state.stream !== undefined) families.push(...streamFamilies(state.stream));
  return (proxy ?? '') + renderFamilies(families);
}

/**
 * The access-log stream's counters: `weft_agent_access_log_streamed_total` (accepted by the
 * control plane), `weft_agent_access_log_dropped_total{reason}` (queue_full, rejected,
 * unsupported, closed), `weft_agent_access_log_stream_failures_total` (batches that got no answer
 * or a 5xx, kept and retried) and `weft_agent_access_log_queued`.
 */
function streamFamilies(stats: AccessLogStreamStats): MetricFamily[] {
  return [
    {
      name: 'weft_agent_access_log_streamed_total',
      help: 'Access-log records the control plane accepted from this proxy.',
      type: 'counter',
      samples: [{ labels: {}, value: stats.sent }],
    },
    {
      name: 'weft_agent_access_log_dropped_total',
      help: 'Access-log records given up instead of streamed, by reason: queue_full (the control plane was away or slow), rejected (4xx), unsupported (no such route), closed.',
      type: 'counter',
      samples: Object.entries(stats.dropped).map(([reason, value]) => ({ labels: { reason }, value })),
    },
    {
      name: 'weft_agent_access_log_stream_failures_total',
      help: 'Batches of access-log records that got no answer, a 5xx or a 429 (kept and retried).',
      type: 'counter',
      samples: [{ labels: {}, value: stats.failures }],
    },
    {
      name: 'weft_agent_access_log_queued',
      help: 'Access-log records waiting to be streamed.',
      type: 'gauge',
      samples: [{ labels: {}, value: stats.queued }],
    },
  ];
}
