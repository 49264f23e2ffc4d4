import { networkInterfaces } from 'node:os';
import { MTLS_METADATA_KEY, type RateLimitOptions } from '@weft/proxy/sidecar';
import { parseDuration } from '../config/duration.js';
import type { CommandItem, HealthCheckItem, TcpProxyItem } from '../config/sidecar-items.js';
import { ratePerSecond, type SidecarConfig } from '../config/sidecar-settings.js';
import type { HealthCheck } from './health/index.js';
import type { AppCommand } from './supervisor.js';

/**
 * A sidecar config turned into what the agent's parts take: the supervisor's commands, the
 * health monitor's checks, the proxy's TCP listeners, and the endpoint to register. Pure
 * functions, so the mapping is tested without processes.
 */

/** The machine's first non-internal IPv4 address (Amalgam8's default endpoint host), else loopback. */
export function defaultEndpointHost(): string {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return '127.0.0.1';
}

const ms = (text: string | undefined): number | undefined => (text === undefined ? undefined : parseDuration(text));

/** A command line split on whitespace: no shell, so no quoting either (use the argv form for that). */
const words = (line: string): string[] => line.trim().split(/\s+/);

/** The timing a check that sets none gets (`health.interval`, `health.timeout`). */
export interface HealthDefaults {
  readonly interval: number;
  readonly timeout: number;
}

/** A health check item (URL or mapping) as the health monitor takes it. */
export function toHealthCheck(item: HealthCheckItem, defaults: HealthDefaults): HealthCheck {
  const timing = { intervalMs: defaults.interval, timeoutMs: defaults.timeout };
  if (typeof item === 'string') {
    if (item.startsWith('tcp://')) {
      const url = new URL(item);
      return { type: 'tcp', host: url.hostname, port: Number(url.port), ...timing };
    }
    return { type: item.startsWith('https:') ? 'https' : 'http', url: item, ...timing };
  }
  const common = {
    intervalMs: ms(item.interval) ?? defaults.interval,
    timeoutMs: ms(item.timeout) ?? defaults.timeout,
    ...(item.healthyThreshold === undefined ? {} : { healthyThreshold: item.healthyThreshold }),
    ...(item.unhealthyThreshold === undefined ? {} : { unhealthyThreshold: item.unhealthyThreshold }),
  };
  switch (item.type) {
    case 'tcp':
      return { type: 'tcp', host: item.host as string, port: item.port as number, ...common };
    case 'command':
      return { type: 'command', cmd: typeof item.cmd === 'string' ? words(item.cmd) : (item.cmd ?? []), ...common };
    default:
      return {
        type: item.type,
        url: item.url as string,
        ...(item.method === undefined ? {} : { method: item.method }),
        ...(item.expectStatus === undefined ? {} : { expectStatus: item.expectStatus }),
        ...(item.insecure === undefined ? {} : { insecure: item.insecure }),
        ...common,
      };
  }
}

/** A command item as the supervisor takes it. Extra commands default to onExit ignore. */
export function toAppCommand(item: CommandItem): AppCommand {
  if (typeof item === 'string') return { cmd: words(item), onExit: 'ignore' };
  return {
    cmd: typeof item.cmd === 'string' ? words(item.cmd) : item.cmd,
    ...(item.env === undefined ? {} : { env: item.env }),
    onExit: item.onExit ?? 'ignore',
  };
}

/** Every command to supervise: the configured ones, then the app after `--` (onExit terminate). */
export function appCommands(config: SidecarConfig, app: readonly string[]): AppCommand[] {
  const out = config.commands.map(toAppCommand);
  if (app.length > 0) out.push({ cmd: app, onExit: 'terminate' });
  return out;
}

export function toTcpProxy(item: TcpProxyItem): { service: string; port: number } {
  if (typeof item !== 'string') return item;
  const colon = item.lastIndexOf(':');
  return { service: item.slice(0, colon), port: Number(item.slice(colon + 1)) };
}

/** The proxy's `rateLimit` option from the `rateLimit` settings; undefined without `rateLimit.rate`. */
export function toRateLimit(limit: SidecarConfig['rateLimit']): RateLimitOptions | undefined {
  if (limit.rate === undefined) return undefined;
  return {
    ratePerSecond: ratePerSecond(limit.rate),
    ...(limit.burst === undefined ? {} : { burst: limit.burst }),
    ...(limit.perSource === undefined ? {} : { perSource: limit.perSource }),
    ...(limit.maxSources === undefined ? {} : { maxSources: limit.maxSources }),
  };
}

/** The agent's inbound mTLS listener, as far as the registration names it. */
export interface InboundEndpoint {
  readonly port: number;
  /** The SPIFFE ID its certificate carries. */
  readonly spiffeId: string;
}

/**
 * The registration `RegistrationClient` sends, or undefined when the sidecar does not register.
 * With an inbound mTLS listener, its port is the endpoint (never the app's own: in strict mode
 * the app is reached through the listener only) and `weft_mtls` metadata announces the identity
 * callers' proxies must find in its certificate.
 */
export function registrationOf(config: SidecarConfig, inbound?: InboundEndpoint) {
  if (!config.register || config.service.name === undefined || config.endpoint.port === undefined) return undefined;
  const host = config.endpoint.host ?? defaultEndpointHost();
  return {
    service: config.service.name,
    endpoint: {
      type: config.endpoint.type,
      value: `${host.includes(':') ? `[${host}]` : host}:${inbound?.port ?? config.endpoint.port}`,
    },
    ...(inbound === undefined ? {} : { metadata: { [MTLS_METADATA_KEY]: inbound.spiffeId } }),
    tags: config.service.tags,
    // Whole seconds on the wire; never below what was asked.
    ttl: Math.ceil(config.registry.ttl / 1000),
  };
}

/** Heartbeat interval: the configured fraction of the TTL asked for (the registry may clamp the TTL). */
export const heartbeatMs = (config: SidecarConfig): number =>
  Math.max(10, Math.round(config.registry.ttl * config.registry.heartbeat));
