import type { HealthCheckStatus } from './types.js';

/**
 * One check's verdict under its thresholds. A check starts unhealthy: the app has proven nothing
 * yet, and a sidecar gating registration on it must not announce an app that has never answered.
 * With the default thresholds (1) the first probe decides.
 */
export class CheckState {
  healthy = false;
  consecutiveFailures = 0;
  consecutiveSuccesses = 0;
  lastError: string | undefined;
  lastCheckAt: number | undefined;

  constructor(
    private readonly healthyThreshold: number,
    private readonly unhealthyThreshold: number,
  ) {}

  /** Records one probe's outcome (`error` undefined: success) and flips the verdict when a threshold is reached. */
  record(error: Error | undefined, at: number): void {
    this.lastCheckAt = at;
    if (error === undefined) {
      this.consecutiveSuccesses++;
      this.consecutiveFailures = 0;
      if (this.consecutiveSuccesses >= this.healthyThreshold) this.healthy = true;
    } else {
      this.lastError = error.message;
      this.consecutiveFailures++;
      this.consecutiveSuccesses = 0;
      if (this.consecutiveFailures >= this.unhealthyThreshold) this.healthy = false;
    }
  }

  status(name: string, type: string): HealthCheckStatus {
    return {
      name,
      type,
      healthy: this.healthy,
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
      ...(this.lastCheckAt === undefined ? {} : { lastCheckAt: this.lastCheckAt }),
      consecutiveFailures: this.consecutiveFailures,
      consecutiveSuccesses: this.consecutiveSuccesses,
    };
  }
}
