import * as z from 'zod/mini';
import { section, setting } from './define.js';
import { DurationSchema } from './duration.js';
import { checkSidecarIdentity, sidecarIdentitySection } from './identity-settings.js';
import { LOG_LEVELS } from './server-settings.js';
import { CommandItemSchema, FractionSchema, HealthCheckItemSchema, TcpProxyItemSchema } from './sidecar-items.js';

export const SIDECAR_MODES = ['sidecar', 'gateway'] as const;
export type SidecarMode = (typeof SIDECAR_MODES)[number];
export const ENDPOINT_TYPES = ['http', 'https', 'tcp', 'udp', 'user'] as const;
export const ROUTING_MODES = ['path', 'host', 'both'] as const;
/** Where the app is registered and the endpoints come from: Weft's registry, or an adapter's store. */
export const REGISTRY_TYPES = ['weft', 'consul', 'etcd', 'kubernetes'] as const;
/** What the inbound mTLS listener accepts (`mtls.mode`). */
export const MTLS_MODES = ['permissive', 'strict'] as const;

/** A rate as `rateLimit.rate` spells it: requests per second (`100/s`) or per minute (`30/m`). */
const RATE_TEXT = /^(\d+(?:\.\d+)?)\/(s|m)$/;

/** Requests per second of a validated `rateLimit.rate` (`100/s`, `30/m`). */
export function ratePerSecond(rate: string): number {
  const m = RATE_TEXT.exec(rate);
  const n = Number(m?.[1]);
  return m?.[2] === 'm' ? n / 60 : n;
}

/** Amalgam8's proxy port: apps call `http://localhost:6379/<service>/…`. */
export const SIDECAR_PROXY_PORT = 6379;
/** The Sidecar class's admin port. */
export const SIDECAR_ADMIN_PORT = 8082;

/**
 * What differs between `weft sidecar` and `weft gateway`. A gateway sits at the edge: it serves
 * the network (0.0.0.0) and registers nothing (Amalgam8's gateway was its sidecar with
 * `A8_REGISTER=false`).
 */
const MODE_DEFAULTS = {
  sidecar: { proxyHost: '127.0.0.1', register: true },
  gateway: { proxyHost: '0.0.0.0', register: false },
} as const;

const text = z.string().check(z.minLength(1, { error: 'must not be empty' }));
const bool = z.boolean({ error: 'must be true or false' });
const portNumber = z
  .number({ error: 'must be a port number' })
  .check(
    z.int({ error: 'must be a whole number' }),
    z.minimum(0, { error: 'must be between 0 and 65535' }),
    z.maximum(65535, { error: 'must be between 0 and 65535' }),
  );
const httpUrl = z.string().check(z.regex(/^https?:\/\/[^\s/]+\S*$/, { error: 'must be an http:// or https:// URL' }));
/** One base URL, or several comma-separated (the replicas of the control plane, from a flag or a variable). */
const HTTP_URLS = /^https?:\/\/[^\s/,]+[^\s,]*(?:\s*,\s*https?:\/\/[^\s/,]+[^\s,]*)*$/;
/**
 * A server's base URL, or its replicas' (stateless servers sharing one store): comma-separated in
 * a flag or a variable, a YAML list (or the same comma-separated text) in the file. Kept as
 * written, so `--print-config` prints what could be written back; {@link urlList} splits it.
 */
const serverUrls = z.union([
  z
    .string()
    .check(
      z.regex(HTTP_URLS, { error: 'must be an http:// or https:// URL, or several separated by commas (replicas)' }),
    ),
  z.array(httpUrl).check(z.minLength(1, { error: 'must list at least one URL' })),
]);

/** A `registry.url` / `controller.url` value as its list of base URLs (one, or the replicas'). */
export function urlList(value: string | readonly string[]): string[] {
  const items = typeof value === 'string' ? value.split(',') : value;
  return items.map((u) => u.trim()).filter((u) => u !== '');
}

/** The `registry` / `controller` connection settings; `what` names the server in descriptions. */
function connection<X extends z.core.$ZodLooseShape>(owner: 'registry' | 'controller', what: string, extra: X) {
  return section(
    {
      url: setting(serverUrls, {
        kind: 'string',
        placeholder: '<url,…>',
        description:
          owner === 'registry'
            ? `Base URL of the ${what}, e.g. http://127.0.0.1:8080, or its replicas' (comma-separated, a list in the file: the sidecar fails over between them) (A8_REGISTRY_URL, --registry_url)`
            : `Base URL of the ${what}, or its replicas' (comma-separated, a list in the file); default: registry.url (weft control-plane serves both) (A8_CONTROLLER_URL, --controller_url)`,
      }),
      token: setting(text, {
        kind: 'string',
        flag: false,
        secret: true,
        description: `Bearer token for the ${what}: the namespace (trusted mode), a JWT, or an admin token (A8_${owner.toUpperCase()}_TOKEN)`,
      }),
      ...extra,
    },
    `The ${what}`,
  );
}

/** Every setting of `weft sidecar` (and, with other defaults, `weft gateway`). */
export function sidecarSettings(mode: SidecarMode) {
  const d = MODE_DEFAULTS[mode];
  return {
    mode: setting(z.enum(SIDECAR_MODES, { error: `must be one of ${SIDECAR_MODES.join(', ')}` }), {
      kind: 'string',
      placeholder: '<mode>',
      description: 'sidecar (next to one app, registers it) or gateway (at the edge: 0.0.0.0, no registration, TLS)',
      default: mode,
    }),
    logLevel: setting(z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }), {
      kind: 'string',
      placeholder: '<level>',
      description: 'Least severe level logged (JSON lines on standard output, through pino)',
      default: 'info',
    }),
    register: setting(bool, {
      kind: 'boolean',
      description: "Register the app's endpoint with the registry, gated by the health checks (A8_REGISTER)",
      default: d.register,
    }),
    proxy: setting(bool, {
      kind: 'boolean',
      description: "Run the proxy for the app's outbound calls, fed by the registry and the controller (A8_PROXY)",
      default: true,
    }),
    service: section(
      {
        name: setting(text, {
          kind: 'string',
          placeholder: '<name>',
          description: 'The service the app provides (A8_SERVICE=name:tag1,tag2, --service name:tags)',
        }),
        tags: setting(z.array(text), {
          kind: 'list',
          placeholder: '<tag,…>',
          description: 'Tags of this instance, e.g. version=v2 (the part after the colon of A8_SERVICE)',
          default: [],
        }),
      },
      'The service this sidecar registers',
    ),
    endpoint: section(
      {
        host: setting(text, {
          kind: 'string',
          placeholder: '<address>',
          description:
            "Address other services reach the app at; default: this machine's first non-loopback IPv4 address (A8_ENDPOINT_HOST)",
        }),
        port: setting(portNumber, {
          kind: 'integer',
          placeholder: '<port>',
          description: 'Port the app listens on; required to register (A8_ENDPOINT_PORT)',
        }),
        type: setting(z.enum(ENDPOINT_TYPES, { error: `must be one of ${ENDPOINT_TYPES.join(', ')}` }), {
          kind: 'string',
          placeholder: '<type>',
          description: 'Protocol of the endpoint (A8_ENDPOINT_TYPE)',
          default: 'http',
        }),
      },
      "The app's endpoint, as registered",
    ),
    registry: connection('registry', 'registry (weft registry or weft control-plane)', {
      type: setting(z.enum(REGISTRY_TYPES, { error: `must be one of ${REGISTRY_TYPES.join(', ')}` }), {
        kind: 'string',
        placeholder: '<type>',
        description:
          "What registry.url is: weft (a weft registry or control-plane), consul (a Consul agent's HTTP API; registry.token is its ACL token) or etcd (its client URLs); the app is registered there and the proxy's endpoints come from there. kubernetes: the endpoints come from the API server's EndpointSlices (registry.kubeconfig, else in-cluster) and Kubernetes registers the pod itself once its readinessProbe — the admin /ready, which follows the health checks — passes",
        default: 'weft',
      }),
      ttl: setting(DurationSchema, {
        kind: 'duration',
        description: "TTL asked for the registration (the registry clamps it; Amalgam8's sidecar: 60s)",
        default: '60s',
      }),
      kubeconfig: setting(text, {
        kind: 'string',
        placeholder: '<file>',
        description:
          "With registry.type kubernetes: the kubeconfig to reach the API server (its current context and namespace); the pod's service account when unset",
      }),
      heartbeat: setting(FractionSchema, {
        kind: 'string',
        placeholder: '<fraction>',
        description: 'Heartbeat interval as a fraction of the TTL (1/3: three heartbeats per TTL)',
        default: '1/3',
      }),
    }),
    controller: connection('controller', 'rules controller (weft controller or weft control-plane)', {}),
    proxyHost: setting(text, {
      kind: 'string',
      placeholder: '<address>',
      description: 'Interface the proxy listens on (gateway: 0.0.0.0)',
      default: d.proxyHost,
    }),
    proxyPort: setting(portNumber, {
      kind: 'integer',
      placeholder: '<port>',
      description: "Port of the proxy; the app calls http://127.0.0.1:<port>/<service>/… (Amalgam8's 6379)",
      default: SIDECAR_PROXY_PORT,
    }),
    routing: setting(z.enum(ROUTING_MODES, { error: `must be one of ${ROUTING_MODES.join(', ')}` }), {
      kind: 'string',
      placeholder: '<mode>',
      description: 'How a request names its service: path (/<service>/…), host (Host: <service>) or both',
      default: 'both',
    }),
    tcpProxies: setting(z.array(TcpProxyItemSchema), {
      kind: 'list',
      placeholder: '<service:port,…>',
      description: 'TCP listeners, one per upstream service: service:port (or {service, port} in the file)',
      default: [],
    }),
    rateLimit: section(
      {
        rate: setting(
          z.string().check(
            z.regex(RATE_TEXT, { error: 'must be requests per second or per minute, e.g. 100/s or 30/m' }),
            // Only a well-formed rate has a value to check (the regex reports the others).
            z.refine((r) => !RATE_TEXT.test(r) || ratePerSecond(r) > 0, { error: 'must be greater than 0' }),
          ),
          {
            kind: 'string',
            placeholder: '<n/s|n/m>',
            description:
              'Default rate limit of the proxy: requests per second (100/s) or per minute (30/m), a token bucket per destination service for routes without a rate_limit of their own; refused calls get 429 with Retry-After. Local to this proxy',
          },
        ),
        burst: setting(
          z.int({ error: 'must be a whole number' }).check(z.minimum(1, { error: 'must be at least 1' })),
          {
            kind: 'integer',
            placeholder: '<n>',
            description:
              'Requests admitted at once after a quiet period; default: the rate per its unit (100 for 100/s)',
          },
        ),
        perSource: setting(z.enum(['service', 'client_ip'], { error: 'must be one of service, client_ip' }), {
          kind: 'string',
          placeholder: '<key>',
          description:
            "A bucket per calling service (service) or per client IP address (client_ip: the connection's peer, a gateway's clients); default one per destination service",
        }),
        maxSources: setting(
          z.int({ error: 'must be a whole number' }).check(z.minimum(1, { error: 'must be at least 1' })),
          {
            kind: 'integer',
            placeholder: '<n>',
            description:
              'With perSource: buckets kept at most per service, least recently used dropped first (default 10000)',
          },
        ),
      },
      'Default rate limit of the proxy',
    ),
    admin: section(
      {
        host: setting(text, {
          kind: 'string',
          placeholder: '<address>',
          description: 'Interface of the admin listener (/health, /metrics, /debug/…)',
          default: '127.0.0.1',
        }),
        port: setting(portNumber, {
          kind: 'integer',
          placeholder: '<port>',
          description: 'Port of the admin listener; 0 picks a free one',
          default: SIDECAR_ADMIN_PORT,
        }),
      },
      'The admin listener',
    ),
    healthchecks: setting(z.array(HealthCheckItemSchema), {
      kind: 'list',
      placeholder: '<url,…>',
      description:
        'Health checks that gate registration: http(s):// and tcp://host:port URLs, or mappings in the file (type, url, host, port, cmd, interval, timeout, thresholds) (A8_HEALTHCHECKS)',
      default: [],
    }),
    health: section(
      {
        interval: setting(DurationSchema, {
          kind: 'duration',
          description:
            'Time between two probes of a check that sets none (Amalgam8: 30s; shorter here because the first registration waits for a passing probe)',
          default: '5s',
        }),
        timeout: setting(DurationSchema, {
          kind: 'duration',
          description: 'A probe that takes longer fails, for a check that sets none',
          default: '5s',
        }),
      },
      'Defaults of the health checks',
    ),
    commands: setting(z.array(CommandItemSchema), {
      kind: 'list',
      placeholder: '<cmd,…>',
      description:
        'Extra commands to supervise: command lines (no shell), or {cmd, env, onExit: ignore|terminate} in the file; the app after -- is one more, with onExit terminate',
      default: [],
    }),
    snapshot: setting(text, {
      kind: 'string',
      placeholder: '<file>',
      description:
        'Last-known-good file: the endpoints and rules last received, written on change and served from at start while the control plane is down',
    }),
    tls: section(
      {
        cert: setting(text, {
          kind: 'string',
          placeholder: '<file>',
          description: "PEM certificate (chain) of the proxy's HTTPS front end (a gateway terminating TLS)",
        }),
        key: setting(text, {
          kind: 'string',
          placeholder: '<file>',
          description: 'PEM private key of the certificate',
        }),
        ca: setting(text, {
          kind: 'string',
          placeholder: '<file>',
          description: 'PEM CA bundle: ask clients for certificates and verify them against it',
        }),
      },
      'HTTPS on the proxy (gateway mode)',
    ),
    tracing: section(
      {
        otlpEndpoint: setting(httpUrl, {
          kind: 'string',
          placeholder: '<url>',
          description:
            "OTLP/HTTP traces URL (http://collector:4318/v1/traces): a client span per proxied call, exported there as JSON with the app's service.name; loads the optional peers @opentelemetry/api, sdk-trace, resources and exporter-trace-otlp-http",
        }),
      },
      'OpenTelemetry traces of the proxy',
    ),
    telemetry: section(
      {
        stream: setting(bool, {
          kind: 'boolean',
          description:
            "Stream the proxy's access-log records to the control plane (POST /v1/telemetry/access-log), where weft recipe-run and the dashboard read them; default: on when the rules come from a weft controller (controller.url, or registry.type weft). Batched, from a bounded queue: never slows the proxy, drops are counted in /metrics",
        }),
        url: setting(serverUrls, {
          kind: 'string',
          placeholder: '<url,…>',
          description:
            "Where to stream them, or its replicas' (comma-separated); default: controller.url, else registry.url (with controller.token, else registry.token)",
        }),
        interval: setting(DurationSchema, {
          kind: 'duration',
          description: 'A batch leaves at least this often while records wait (500 records leave at once)',
          default: '1s',
        }),
        queue: setting(
          z
            .number({ error: 'must be a number of records' })
            .check(z.int({ error: 'must be a whole number' }), z.minimum(1, { error: 'must be 1 or more' })),
          {
            kind: 'integer',
            placeholder: '<records>',
            description:
              'Records waiting at most while the control plane is slow or away; newer ones are dropped beyond (weft_agent_access_log_dropped_total)',
            default: 10_000,
          },
        ),
      },
      'Access-log streaming to the control plane',
    ),
    identity: sidecarIdentitySection(),
    inbound: section(
      {
        port: setting(portNumber, {
          kind: 'integer',
          placeholder: '<port>',
          description:
            "Port of the inbound mTLS listener, through which other services' proxies reach the app (forwarded to 127.0.0.1:endpoint.port in plain HTTP, the caller named in x-forwarded-client-cert); registered as the app's endpoint, with weft_mtls metadata. Needs identity.enabled; 0 or unset: no inbound listener (the app's own port is registered)",
        }),
        host: setting(text, {
          kind: 'string',
          placeholder: '<address>',
          description: 'Interface the inbound listener listens on',
          default: '0.0.0.0',
        }),
      },
      'The inbound mTLS listener in front of the app',
    ),
    mtls: section(
      {
        mode: setting(z.enum(MTLS_MODES, { error: `must be one of ${MTLS_MODES.join(', ')}` }), {
          kind: 'string',
          placeholder: '<mode>',
          description:
            'What the inbound listener accepts: permissive (mTLS, and plain HTTP from callers without an identity) or strict (only mTLS with a certificate of the mesh: a handshake without one fails, plain HTTP gets 403 WEFT_ERR_FORBIDDEN)',
          default: 'permissive',
        }),
      },
      'mTLS between proxies',
    ),
    shutdown: section(
      {
        timeout: setting(DurationSchema, {
          kind: 'duration',
          description:
            'On SIGTERM/SIGINT, how long in-flight requests may take, and the app may take to exit before SIGKILL',
          default: '10s',
        }),
      },
      'Graceful shutdown',
    ),
  };
}

/** The cross-field rules of a sidecar config. */
export function checkSidecar(
  c: {
    register: boolean;
    proxy: boolean;
    service: { name?: string | undefined };
    endpoint: { port?: number | undefined };
    registry: { url?: string | readonly string[] | undefined; type: (typeof REGISTRY_TYPES)[number] };
    controller: { url?: string | readonly string[] | undefined };
    tls: { cert?: string | undefined; key?: string | undefined; ca?: string | undefined };
    rateLimit?: {
      rate?: string | undefined;
      burst?: number | undefined;
      perSource?: string | undefined;
      maxSources?: number | undefined;
    };
    telemetry?: { stream?: boolean | undefined; url?: string | readonly string[] | undefined };
    identity?: { enabled: boolean } | undefined;
    inbound?: { port?: number | undefined } | undefined;
  },
  issue: (path: readonly string[], message: string) => void,
): void {
  if (c.register) {
    if (c.service.name === undefined) issue(['service', 'name'], 'is required to register (or give --no-register)');
    if (c.endpoint.port === undefined) issue(['endpoint', 'port'], 'is required to register (or give --no-register)');
  }
  // Kubernetes is found through the kubeconfig or the pod's service account, not a URL.
  if ((c.register || c.proxy) && c.registry.url === undefined && c.registry.type !== 'kubernetes')
    issue(['registry', 'url'], 'is required to register or to proxy (the endpoints come from the registry)');
  if (c.registry.type === 'kubernetes' && c.registry.url !== undefined)
    issue(
      ['registry', 'url'],
      'is not used with registry.type kubernetes: give registry.kubeconfig, or nothing in a pod (its service account)',
    );
  // A Consul agent is one local address; etcd takes its cluster's members, Weft its replicas.
  if (c.registry.type === 'consul' && c.registry.url !== undefined && urlList(c.registry.url).length > 1)
    issue(['registry', 'url'], "must be one URL with registry.type consul (the local Consul agent's)");
  // Consul and etcd hold endpoints only: the rules still come from a Weft controller.
  if (c.proxy && c.registry.type !== 'weft' && c.controller.url === undefined)
    issue(
      ['controller', 'url'],
      `is required to proxy with registry.type ${c.registry.type} (the rules come from a weft controller)`,
    );
  if ((c.tls.cert === undefined) !== (c.tls.key === undefined))
    issue(['tls', c.tls.cert === undefined ? 'cert' : 'key'], 'is required with tls.cert / tls.key (give both)');
  if (c.tls.ca !== undefined && c.tls.cert === undefined) issue(['tls', 'ca'], 'needs tls.cert and tls.key');
  const limit = c.rateLimit;
  if (limit !== undefined && limit.rate === undefined)
    for (const key of ['burst', 'perSource', 'maxSources'] as const)
      if (limit[key] !== undefined) issue(['rateLimit', key], 'needs rateLimit.rate');
  // Streaming needs somewhere to send to: a control plane the registry or controller settings name.
  const telemetry = c.telemetry;
  if (
    telemetry?.stream === true &&
    telemetry.url === undefined &&
    c.controller.url === undefined &&
    (c.registry.type !== 'weft' || c.registry.url === undefined)
  )
    issue(
      ['telemetry', 'url'],
      'is required to stream access-log records (no controller.url or weft registry.url to default to)',
    );
  checkSidecarIdentity(c, issue);
  // The inbound listener presents the workload certificate and forwards to the app's port.
  if (c.inbound?.port !== undefined && c.inbound.port !== 0) {
    if (c.identity?.enabled !== true)
      issue(['inbound', 'port'], 'needs identity.enabled (the listener presents the workload certificate)');
    if (c.endpoint.port === undefined)
      issue(['endpoint', 'port'], 'is required by inbound.port (the app to forward to)');
  }
}

/** `weft sidecar` / `weft gateway`'s config schema, with the mode's defaults. */
export function sidecarConfigSchema(mode: SidecarMode) {
  return z
    .strictObject(sidecarSettings(mode))
    .check(
      z.superRefine((c, ctx) =>
        checkSidecar(c, (path, message) => ctx.addIssue({ code: 'custom', path: [...path], message })),
      ),
    );
}
export type SidecarConfig = z.output<ReturnType<typeof sidecarConfigSchema>>;
