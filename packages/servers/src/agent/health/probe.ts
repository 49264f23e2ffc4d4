import { commandProbe } from './command-probe.js';
import { httpProbe } from './http-probe.js';
import { tcpProbe } from './tcp-probe.js';
import type { HealthCheckSpec } from './types.js';

/** Runs one probe of `spec`; resolves when healthy, rejects with the reason otherwise. */
export function probe(spec: HealthCheckSpec, signal: AbortSignal): Promise<void> {
  switch (spec.type) {
    case 'http':
    case 'https':
      return httpProbe(spec, signal);
    case 'tcp':
      return tcpProbe(spec, signal);
    case 'command':
      return commandProbe(spec, signal);
  }
}

/** The name a check is reported under when it has none: what it probes. */
export function defaultName(spec: HealthCheckSpec): string {
  switch (spec.type) {
    case 'http':
    case 'https':
      return `${spec.method ?? 'GET'} ${spec.url}`;
    case 'tcp':
      return `${spec.host.includes(':') ? `[${spec.host}]` : spec.host}:${spec.port}`;
    case 'command':
      return spec.cmd.join(' ');
  }
}
