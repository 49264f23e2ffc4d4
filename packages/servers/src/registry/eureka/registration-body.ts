import { InvalidArgumentError, type ValidationIssue } from '@weft/core';
import { type EurekaStatus, eurekaStatus } from './status.js';

/** A port as Eureka describes it: `{"$": 8080, "@enabled": "true"}` (XML: `<port enabled="true">8080</port>`). */
export interface EurekaPort {
  readonly port: number;
  readonly enabled: boolean;
}

/** An `InstanceInfo` a client registers, read and checked. */
export interface EurekaRegistration {
  readonly instanceId: string;
  readonly app: string;
  readonly hostName: string;
  readonly ipAddr: string;
  readonly status: EurekaStatus;
  readonly port: EurekaPort;
  readonly securePort: EurekaPort;
  readonly renewalIntervalInSecs: number;
  readonly durationInSecs: number;
  readonly metadata: Readonly<Record<string, string>>;
  readonly vipAddress: string | undefined;
  readonly secureVipAddress: string | undefined;
  readonly homePageUrl: string | undefined;
  readonly statusPageUrl: string | undefined;
  readonly healthCheckUrl: string | undefined;
  readonly secureHealthCheckUrl: string | undefined;
  readonly dataCenter: string;
  readonly lastDirtyTimestamp: number | undefined;
}

type Json = Readonly<Record<string, unknown>>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Eureka's defaults (`InstanceInfo.Builder`, `LeaseInfo`). */
const DEFAULTS = {
  port: { port: 7001, enabled: true },
  securePort: { port: 7002, enabled: false },
  renewalIntervalInSecs: 30,
  durationInSecs: 90,
  dataCenter: 'MyOwn',
} as const;

/**
 * Reads the body of `POST /apps/{app}`: `{"instance": {...}}` in JSON, or `<instance>…</instance>`
 * parsed from XML into the same shape (attributes as `@name`, text as `$`, every value a string).
 * Numbers and booleans are taken as JSON values or as strings, since XML has only strings and
 * Eureka's own JSON writes some as strings (`"@enabled": "true"`). Checks what Eureka's server
 * checks (instanceId or hostName, hostName, ipAddr, the app matching the path, dataCenterInfo's
 * name) and what Weft needs (a valid status, a port in range), naming every bad field.
 *
 * @throws InvalidArgumentError naming each bad field as `instance.<field>`.
 */
export function readEurekaRegistration(body: unknown, pathApp: string): EurekaRegistration {
  const issues: ValidationIssue[] = [];
  const bad = (path: string, message: string): void => {
    issues.push({ path: path === '' ? 'instance' : `instance.${path}`, message });
  };
  const root = isObject(body) && isObject(body.instance) ? body.instance : undefined;
  if (root === undefined)
    throw new InvalidArgumentError('Eureka registration', [
      { path: 'instance', message: 'is required: send {"instance": {...}} or <instance>…</instance>' },
    ]);

  const text = (field: string): string | undefined => {
    const v = root[field];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string' || typeof v === 'number') return String(v);
    bad(field, 'must be a string');
    return undefined;
  };
  const required = (field: string): string => {
    const v = text(field);
    if (v === undefined || v.trim() === '') {
      if (!issues.some((i) => i.path === `instance.${field}`)) bad(field, 'is required');
      return '';
    }
    return v;
  };

  const hostName = required('hostName');
  const ipAddr = required('ipAddr');
  const instanceId = text('instanceId') || hostName;
  const app = text('app') ?? pathApp;
  if (app.toLowerCase() !== pathApp.toLowerCase())
    bad('app', `must name the application of the path (${JSON.stringify(pathApp)}), got ${JSON.stringify(app)}`);
  const statusText = text('status');
  const status = statusText === undefined || statusText === '' ? 'UP' : eurekaStatus(statusText);
  if (status === undefined)
    bad('status', `must be one of UP, DOWN, STARTING, OUT_OF_SERVICE, UNKNOWN (got ${JSON.stringify(statusText)})`);

  const port = readPort(root.port, DEFAULTS.port, 'port', bad);
  const securePort = readPort(root.securePort, DEFAULTS.securePort, 'securePort', bad);
  if (!port.enabled && !securePort.enabled) bad('port', 'no port is enabled: enable port or securePort');

  const lease = isObject(root.leaseInfo) ? root.leaseInfo : {};
  const renewalIntervalInSecs = readNumber(
    lease.renewalIntervalInSecs,
    DEFAULTS.renewalIntervalInSecs,
    'leaseInfo.renewalIntervalInSecs',
    bad,
  );
  const durationInSecs = readNumber(lease.durationInSecs, DEFAULTS.durationInSecs, 'leaseInfo.durationInSecs', bad);

  const dataCenterInfo = root.dataCenterInfo;
  let dataCenter: string = DEFAULTS.dataCenter;
  if (isObject(dataCenterInfo)) {
    if (typeof dataCenterInfo.name !== 'string' || dataCenterInfo.name === '')
      bad('dataCenterInfo.name', 'is required');
    else dataCenter = dataCenterInfo.name;
  } else if (dataCenterInfo !== undefined && dataCenterInfo !== null) bad('dataCenterInfo', 'must be an object');

  const metadata = readMetadata(root.metadata, bad);
  const dirty = root.lastDirtyTimestamp;
  const lastDirtyTimestamp =
    dirty === undefined || dirty === null || dirty === '' ? undefined : readNumber(dirty, 0, 'lastDirtyTimestamp', bad);

  if (issues.length > 0 || status === undefined) throw new InvalidArgumentError('Eureka registration', issues);
  const optional = (field: string): string | undefined => {
    const v = text(field);
    return v === undefined || v === '' ? undefined : v;
  };
  return {
    instanceId,
    app,
    hostName,
    ipAddr,
    status,
    port,
    securePort,
    renewalIntervalInSecs,
    durationInSecs,
    metadata,
    vipAddress: optional('vipAddress'),
    secureVipAddress: optional('secureVipAddress'),
    homePageUrl: optional('homePageUrl'),
    statusPageUrl: optional('statusPageUrl'),
    healthCheckUrl: optional('healthCheckUrl'),
    secureHealthCheckUrl: optional('secureHealthCheckUrl'),
    dataCenter,
    lastDirtyTimestamp,
  };
}

function readBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return undefined;
}

function readNumber(
  value: unknown,
  fallback: number,
  path: string,
  bad: (path: string, message: string) => void,
): number {
  if (value === undefined || value === null) return fallback;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 0) return n;
  bad(path, `must be a whole number ≥ 0 (got ${JSON.stringify(value)})`);
  return fallback;
}

function readPort(
  value: unknown,
  fallback: EurekaPort,
  path: string,
  bad: (path: string, message: string) => void,
): EurekaPort {
  if (value === undefined || value === null) return fallback;
  // A bare number (some clients) is an enabled port.
  if (!isObject(value)) return { port: readPortNumber(value, path, bad), enabled: true };
  const enabled = value['@enabled'] === undefined ? fallback.enabled : readBoolean(value['@enabled']);
  if (enabled === undefined)
    bad(`${path}.@enabled`, `must be "true" or "false" (got ${JSON.stringify(value['@enabled'])})`);
  return { port: readPortNumber(value.$, `${path}.$`, bad), enabled: enabled ?? false };
}

function readPortNumber(value: unknown, path: string, bad: (path: string, message: string) => void): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 65535) return n;
  bad(path, `must be a port number from 0 to 65535 (got ${JSON.stringify(value)})`);
  return 0;
}

/**
 * Eureka metadata is a map of strings. Jackson writes an empty one as
 * `{"@class": "java.util.Collections$EmptyMap"}` (XML: `class="…"`): that marker is not a key.
 */
function readMetadata(value: unknown, bad: (path: string, message: string) => void): Record<string, string> {
  if (value === undefined || value === null || value === '') return {};
  if (!isObject(value)) {
    bad('metadata', 'must be a map of strings');
    return {};
  }
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    if (key === '@class') continue;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[key] = String(v);
    else if (v === null) out[key] = '';
    else bad(`metadata.${key}`, 'must be a string');
  }
  return out;
}
