import { readFile } from 'node:fs/promises';
import {
  type AccessLogStream,
  type RulesFollow,
  WeftAuthorizationSource,
  WeftRulesSource,
  type WorkloadIdentity,
} from '@weft/adapters/weft';
import { Discovery } from '@weft/core';
import {
  type AccessLogSink,
  MeshMetrics,
  pinoAccessLog,
  type RulesRouter,
  rulesRouter,
  Sidecar,
  type SidecarAddresses,
} from '@weft/proxy/sidecar';
import { type SidecarConfig, urlList } from '../config/sidecar-settings.js';
import type { RecentAccessLog } from './recent-access-log.js';
import { toRateLimit, toTcpProxy } from './sidecar-plan.js';
import { endpointSource } from './sidecar-registry.js';
import { SeededSource, type SnapshotFile, SnapshotWriter } from './sidecar-snapshot.js';
import { openSidecarTracing } from './sidecar-tracing.js';

/** The proxy side of the agent: discovery over the registry, rules from the controller, the Sidecar. */
export interface Mesh {
  readonly sidecar: Sidecar;
  readonly discovery: Discovery;
  readonly router: RulesRouter;
  readonly following: RulesFollow;
  readonly metrics: MeshMetrics;
  readonly seeded: SeededSource;
  readonly writer: SnapshotWriter | undefined;
  /** The snapshot loaded at start, if any. */
  readonly loaded: SnapshotFile | undefined;
  listen(): Promise<SidecarAddresses>;
  /** Drains the proxy (in-flight requests finish), then stops following and flushes the snapshot. */
  drain(): Promise<void>;
}

/** The stream (when the agent streams), passing records on to `log`; else `log` alone. */
const chain = (stream: AccessLogStream | undefined, log: AccessLogSink | undefined): AccessLogSink | undefined =>
  stream === undefined ? log : stream.forwardTo(log);

/** The router the sidecar starts with: the snapshot's rules, or none (every request to every instance). */
function initialRouter(loaded: SnapshotFile | undefined, warn: (m: string) => void): RulesRouter {
  if (loaded === undefined || loaded.rules.length === 0) return rulesRouter([]);
  try {
    return rulesRouter(loaded.rules);
  } catch (err) {
    warn(`ignoring the snapshot's rules: ${(err as Error).message}`);
    return rulesRouter([]);
  }
}

async function tlsOptions(tls: SidecarConfig['tls']) {
  if (tls.cert === undefined || tls.key === undefined) return undefined;
  const [cert, key, ca] = await Promise.all([
    readFile(tls.cert),
    readFile(tls.key),
    tls.ca === undefined ? undefined : readFile(tls.ca),
  ]);
  return ca === undefined ? { cert, key } : { cert, key, ca, requestCert: true, rejectUnauthorized: true };
}

/**
 * Builds the proxy fed by the control plane: `Discovery` over the registry's source (seeded with
 * the snapshot), one `rulesRouter` kept on the controller's rules by `WeftRulesSource.follow`,
 * and a `Sidecar` (its admin off: the agent serves its own). Each new catalogue and rule set is
 * written to the snapshot file when one is configured. With `recent`, every access-log record is
 * kept in that ring too, whatever the log level (a recipe reads them from the admin listener).
 */
export async function createMesh(
  config: SidecarConfig,
  loaded: SnapshotFile | undefined,
  warn: (message: string) => void,
  recent?: RecentAccessLog,
  /** Streams the records to the control plane too (with `recent`). */
  stream?: AccessLogStream,
  /** The workload identity (identity.enabled): calls to endpoints that announce `weft_mtls` go over mTLS with it. */
  identity?: WorkloadIdentity,
): Promise<Mesh> {
  const writer = config.snapshot === undefined ? undefined : new SnapshotWriter(config.snapshot, loaded);
  // The registry's endpoints, from the store registry.type names (Weft's, Consul, etcd).
  const registrySource = await endpointSource(config);
  const seeded = new SeededSource(registrySource, loaded?.instances, (instances) => writer?.setInstances(instances));
  const discovery = new Discovery({ sources: [seeded] });
  const router = initialRouter(loaded, warn);
  const controllerToken = config.controller.token ?? config.registry.token;
  const rulesSource = new WeftRulesSource({
    // checkSidecar requires controller.url with a registry that is not Weft's. Several URLs are
    // the replicas of the control plane: the source fails over between them.
    url: urlList(config.controller.url ?? config.registry.url ?? []),
    ...(controllerToken === undefined ? {} : { token: controllerToken }),
  });
  const following = rulesSource.follow(router, {
    onUpdate: (update) => writer?.setRules(update.ruleSet.rules, update.revision),
  });
  const metrics = new MeshMetrics();
  // Spans to an OTLP receiver only when asked: the OpenTelemetry packages load only then.
  const tracing =
    config.tracing.otlpEndpoint === undefined
      ? undefined
      : await openSidecarTracing(config.tracing.otlpEndpoint, config.service.name);
  const tls = await tlsOptions(config.tls);
  const rateLimit = toRateLimit(config.rateLimit);
  const quiet = config.logLevel === 'silent' || config.logLevel === 'fatal' || config.logLevel === 'error';
  const sidecar = new Sidecar({
    discovery,
    router,
    metrics,
    ...(config.service.name === undefined
      ? {}
      : { identity: { name: config.service.name, tags: config.service.tags } }),
    host: config.proxyHost,
    port: config.proxyPort,
    routing: config.routing,
    admin: false,
    tcp: config.tcpProxies.map(toTcpProxy),
    ...(rateLimit === undefined ? {} : { rateLimit }),
    drainTimeoutMs: config.shutdown.timeout,
    ...(tracing === undefined ? {} : { tracer: tracing.tracer }),
    // The access log is info-level output: off when the log level hides info (the ring keeps its records).
    accessLog:
      recent === undefined
        ? !quiet && config.logLevel !== 'warn'
        : recent.forwardTo(chain(stream, !quiet && config.logLevel !== 'warn' ? pinoAccessLog() : undefined)),
    ...(tls === undefined ? {} : { tls }),
    ...(identity === undefined ? {} : { mtls: { credentials: identity } }),
  });
  // The namespace's authorization policies, judged on every request the listener receives —
  // except next to an app with a workload identity: there the caller of this listener is always
  // the app itself, without a certificate, and a policy that allows its service would refuse it
  // here. Its calls are judged where they arrive, by the destination's inbound listener, with
  // the identity its certificate proves (sidecar-inbound.ts).
  const authorizationSource = new WeftAuthorizationSource({
    url: urlList(config.controller.url ?? config.registry.url ?? []),
    ...(controllerToken === undefined ? {} : { token: controllerToken }),
  });
  const judgesCallers = config.mode === 'gateway' || identity === undefined;
  const authorizing = judgesCallers ? authorizationSource.follow(sidecar) : undefined;
  return {
    sidecar,
    discovery,
    router,
    following,
    metrics,
    seeded,
    writer,
    loaded,
    listen: () => sidecar.listen(),
    async drain() {
      await sidecar.drain();
      following.unsubscribe();
      authorizing?.unsubscribe();
      discovery.close();
      await Promise.all([registrySource.close(), rulesSource.close(), authorizationSource.close()]);
      await writer?.flush();
      await tracing?.shutdown();
    },
  };
}
