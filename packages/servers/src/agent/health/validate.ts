import { InvalidArgumentError, type ValidationIssue } from '@weft/core';
import type { HealthCheck } from './types.js';

/**
 * Checks every health check at construction, so a typo in a sidecar's config fails at start
 * naming every problem, not 30 s later as a mysterious unhealthy app.
 * @throws InvalidArgumentError listing each problem with its check's index
 */
export function validateChecks(checks: readonly HealthCheck[]): void {
  const issues: ValidationIssue[] = [];
  checks.forEach((check, i) => {
    const at = (field: string, message: string): void => {
      issues.push({ path: `[${i}].${field}`, message });
    };
    for (const field of ['intervalMs', 'timeoutMs'] as const) {
      const value = check[field];
      if (value !== undefined && !(Number.isFinite(value) && value > 0))
        at(field, `must be a number > 0 (got ${value})`);
    }
    for (const field of ['healthyThreshold', 'unhealthyThreshold'] as const) {
      const value = check[field];
      if (value !== undefined && !(Number.isInteger(value) && value >= 1))
        at(field, `must be an integer ≥ 1 (got ${value})`);
    }
    switch (check.type) {
      case 'http':
      case 'https': {
        let protocol: string | undefined;
        try {
          protocol = new URL(check.url).protocol;
        } catch {
          at('url', `is not a URL (got ${JSON.stringify(check.url)})`);
        }
        if (protocol !== undefined && protocol !== `${check.type}:`)
          at('url', `must be an ${check.type}: URL for a ${check.type} check (got ${JSON.stringify(check.url)})`);
        if (
          check.expectStatus !== undefined &&
          !(Number.isInteger(check.expectStatus) && check.expectStatus >= 100 && check.expectStatus <= 599)
        )
          at('expectStatus', `must be an HTTP status, 100–599 (got ${check.expectStatus})`);
        break;
      }
      case 'tcp':
        if (check.host === '') at('host', 'must not be empty');
        if (!(Number.isInteger(check.port) && check.port >= 1 && check.port <= 65_535))
          at('port', `must be a port, 1–65535 (got ${check.port})`);
        break;
      case 'command':
        if (check.cmd.length === 0 || check.cmd[0] === '') at('cmd', 'must name a program');
        break;
      default:
        at('type', `must be http, https, tcp or command (got ${JSON.stringify((check as { type: unknown }).type)})`);
    }
  });
  if (issues.length > 0) throw new InvalidArgumentError('health checks', issues);
}
