import { describe, expect, it } from 'vitest';
import { agentMetricsText } from './agent-metrics.js';

const registration = {
  state: 'registering' as const,
  id: undefined,
  reason: 'healthy',
  since: 0,
  lastError: 'connect ECONNREFUSED',
  registrations: 2,
};

describe('agentMetricsText', () => {
  it('follows the registration and every health check, after the proxy’s text', () => {
    const text = agentMetricsText('# proxy\n', {
      service: 'reviews',
      mode: 'sidecar',
      registration,
      health: {
        healthy: false,
        checks: [
          {
            name: 'GET http://127.0.0.1:9080/health',
            type: 'http',
            healthy: false,
            consecutiveFailures: 3,
            consecutiveSuccesses: 0,
          },
          { name: 'tcp 127.0.0.1:9080', type: 'tcp', healthy: true, consecutiveFailures: 0, consecutiveSuccesses: 4 },
        ],
      },
      draining: true,
      rulesRevision: 7,
    });
    expect(text.startsWith('# proxy\n# HELP weft_agent_info ')).toBe(true);
    const series = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(series).toEqual([
      'weft_agent_info{service="reviews",mode="sidecar"} 1',
      'weft_agent_registered{service="reviews"} 0',
      'weft_agent_registrations_total{service="reviews"} 2',
      'weft_agent_healthy{service="reviews"} 0',
      'weft_agent_health_check_up{check="GET http://127.0.0.1:9080/health",type="http"} 0',
      'weft_agent_health_check_up{check="tcp 127.0.0.1:9080",type="tcp"} 1',
      'weft_agent_health_check_consecutive_failures{check="GET http://127.0.0.1:9080/health"} 3',
      'weft_agent_health_check_consecutive_failures{check="tcp 127.0.0.1:9080"} 0',
      'weft_agent_draining 1',
      'weft_agent_rules_revision 7',
    ]);
  });

  it('leaves out what the agent does not do: registration, health checks, a proxy', () => {
    const text = agentMetricsText(undefined, {
      service: undefined,
      mode: 'gateway',
      registration: undefined,
      health: undefined,
      draining: false,
      rulesRevision: undefined,
    });
    expect(text.split('\n').filter((l) => l !== '' && !l.startsWith('#'))).toEqual([
      'weft_agent_info{service="",mode="gateway"} 1',
      'weft_agent_draining 0',
    ]);
  });
});
