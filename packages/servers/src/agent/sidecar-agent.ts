import { EventEmitter } from 'node:events';
import { type AccessLogStream, RegistrationClient, type WorkloadIdentity } from '@weft/adapters/weft';
import { type SidecarConfig, urlList } from '../config/sidecar-settings.js';
import { agentMetricsText } from './agent-metrics.js';
import { HealthMonitor } from './health/index.js';
import { accessLogQueryOf, RecentAccessLog } from './recent-access-log.js';
import { AgentAdmin } from './sidecar-admin.js';
import { healthBody, listEndpoints } from './sidecar-health.js';
import { type IdentityHealth, identityHealth, openWorkloadIdentity } from './sidecar-identity.js';
import { type Inbound, inboundHealth, openInbound, wantsInbound } from './sidecar-inbound.js';
import { createMesh, type Mesh } from './sidecar-mesh.js';
import { appCommands, heartbeatMs, registrationOf, toHealthCheck } from './sidecar-plan.js';
import { GatedRegistration } from './sidecar-registration.js';
import { storeRegistry } from './sidecar-registry.js';
import { readSnapshot } from './sidecar-snapshot.js';
import { StoreRegistration } from './sidecar-store-registration.js';
import { openAccessLogStream } from './sidecar-telemetry.js';
import { Supervisor } from './supervisor.js';
import { pid1Advice } from './supervisor-pid1.js';

/** Where a started agent listens. */
export interface AgentAddresses {
  /** `http://127.0.0.1:6379`, when the proxy runs. */
  readonly proxy: string | undefined;
  readonly admin: string;
  readonly tcp: Readonly<Record<string, number>>;
}

const url = (scheme: string, host: string, port: number): string =>
  `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;

/**
 * `weft sidecar`: Amalgam8's sidecar as one object. Start order: the proxy listens first (so the
 * app can call out the moment it runs), then the admin listener, then the app's commands, then
 * the health checks, whose verdict registers and deregisters the app. `stop()` undoes it in the
 * order that loses no request: deregister (no new callers), drain the proxy (the app's calls in
 * flight finish), stop the app's process groups.
 *
 * Emits `terminate(code)` when a command with onExit terminate (the app after `--`) ended: the
 * caller stops the agent and exits with that code.
 */
export class SidecarAgent extends EventEmitter<{ terminate: [code: number] }> {
  private mesh: Mesh | undefined;
  private readonly admin: AgentAdmin;
  /** The proxy's recent access-log records, for GET /debug/access-log (recipes read them there). */
  private readonly recentAccessLog = new RecentAccessLog();
  /** The records streamed to the control plane (telemetry.stream), for the recipe runner and the dashboard. */
  private stream: AccessLogStream | undefined;
  private readonly supervisor: Supervisor;
  private readonly monitor: HealthMonitor | undefined;
  private registration: GatedRegistration | undefined;
  /** The app's workload certificate (identity.enabled), kept renewed. */
  private identity: WorkloadIdentity | undefined;
  /** The identity's section of /health: its certificate, renewal and last failure. */
  private identityHealth: (() => IdentityHealth) | undefined;
  /** The inbound mTLS listener (inbound.port), once the first certificate came and it listens. */
  private inbound: Inbound | undefined;
  private stopping: Promise<void> | undefined;
  /** The exit code of the 'terminate' command that ended, if one did. */
  appExitCode: number | undefined;

  constructor(
    private readonly config: SidecarConfig,
    app: readonly string[],
    private readonly log: (message: string) => void,
  ) {
    super();
    this.supervisor = new Supervisor(appCommands(config, app), { killTimeoutMs: config.shutdown.timeout });
    this.supervisor.on('terminate', (code) => {
      this.appExitCode = code;
      this.emit('terminate', code);
    });
    this.supervisor.on('exit', (command, code, signal) =>
      this.log(`${command.cmd.join(' ')} exited (${signal ?? code})`),
    );
    this.supervisor.on('error', (error) => this.log(error.message));
    this.monitor =
      config.healthchecks.length === 0
        ? undefined
        : new HealthMonitor(config.healthchecks.map((c) => toHealthCheck(c, config.health)));
    this.admin = new AgentAdmin({
      health: () => ({
        draining: this.stopping !== undefined,
        body: healthBody({
          config,
          mesh: this.mesh,
          registration: this.registration?.current,
          health: this.monitor?.report(),
          appRunning: this.supervisor.running,
          draining: this.stopping !== undefined,
          identity: this.identityHealth?.(),
          inbound:
            this.identity !== undefined && wantsInbound(config) ? inboundHealth(config, this.inbound) : undefined,
        }),
      }),
      ready: () => {
        const draining = this.stopping !== undefined;
        const healthy = this.monitor?.healthy ?? true;
        return {
          ready: healthy && !draining,
          body: { ready: healthy && !draining, healthy, draining, health: this.monitor?.report() ?? null },
        };
      },
      // The proxy's metrics, then the agent's own (registration, health checks).
      metrics: () =>
        agentMetricsText(this.proxyMetricsText(), {
          service: config.service.name,
          mode: config.mode,
          registration: this.registration?.current,
          health: this.monitor?.report(),
          draining: this.stopping !== undefined,
          rulesRevision: this.mesh?.following.revision,
          stream: this.stream?.stats(),
        }),
      endpoints: () => listEndpoints(this.mesh),
      accessLog: (params) => {
        if (this.mesh === undefined) return undefined;
        const query = accessLogQueryOf(params);
        if ('error' in query) return { status: 400, body: query };
        const revision = this.mesh.following.revision ?? null;
        const service =
          config.service.name === undefined ? null : { name: config.service.name, tags: config.service.tags };
        return { status: 200, body: { service, rules_revision: revision, ...this.recentAccessLog.query(query) } };
      },
    });
  }

  /** The outbound proxy's metrics, then the inbound listener's (`weft_inbound_*`). */
  private proxyMetricsText(): string | undefined {
    const outbound = this.mesh?.metrics.text();
    const inbound = this.inbound?.metricsText();
    if (inbound === undefined) return outbound;
    return outbound === undefined ? inbound : `${outbound}${outbound.endsWith('\n') ? '' : '\n'}${inbound}`;
  }

  /**
   * Starts everything; resolves once the proxy and the admin listener listen (ready). With an
   * inbound listener, the registration waits for it (it needs the first certificate): the
   * instance is registered with the listener's port, never the app's.
   */
  async start(): Promise<AgentAddresses> {
    const { config } = this;
    const advice = pid1Advice();
    if (advice !== undefined) this.log(advice);
    // First: the outbound proxy takes it for mTLS to peers that announce an identity.
    this.identity = openWorkloadIdentity(config, this.log);
    // Before the first certificate can come: it is told by an event.
    if (this.identity !== undefined) this.identityHealth = identityHealth(this.identity);
    let proxy: string | undefined;
    let tcp: Record<string, number> = {};
    if (config.proxy) {
      const loaded = config.snapshot === undefined ? undefined : await readSnapshot(config.snapshot, this.log);
      if (loaded !== undefined)
        this.log(
          `serving the snapshot ${config.snapshot} of ${new Date(loaded.savedAt).toISOString()} until the control plane answers`,
        );
      this.stream = openAccessLogStream(config, this.log);
      this.mesh = await createMesh(config, loaded, this.log, this.recentAccessLog, this.stream, this.identity);
      const addresses = await this.mesh.listen();
      proxy = url(config.tls.cert === undefined ? 'http' : 'https', config.proxyHost, addresses.port);
      tcp = addresses.tcpPorts;
    }
    const adminPort = await this.admin.listen(config.admin.host, config.admin.port);
    this.supervisor.start();
    // Health is checked (and shown in /health) even without registration.
    void this.monitor?.start();
    const identity = this.identity;
    if (wantsInbound(config) && identity !== undefined)
      void openInbound(config, identity, this.log).then(
        (inbound) => {
          // Stopped while the listener waited for its certificate: it is not wanted any more.
          if (this.stopping !== undefined) return inbound.drain();
          this.inbound = inbound;
          this.startRegistration(inbound);
        },
        (err: unknown) => this.log(`inbound listener: ${(err as Error).message}; the app is not registered`),
      );
    else this.startRegistration();
    return { proxy, admin: url('http', config.admin.host, adminPort), tcp };
  }

  private startRegistration(inbound?: Inbound): void {
    const { config } = this;
    const registration = registrationOf(config, inbound);
    if (registration !== undefined && config.registry.type === 'kubernetes')
      // Kubernetes registers the pod itself: its EndpointSlices list the pod while its
      // readinessProbe passes, and GET /ready follows the health checks that gate registration here.
      this.log(
        `${registration.service}: registered by Kubernetes, not by the sidecar: point the pod's readinessProbe at the admin listener's /ready (port ${config.admin.port})`,
      );
    else if (registration !== undefined) {
      const gated = new GatedRegistration(
        () =>
          config.registry.type === 'weft'
            ? new RegistrationClient({
                // Several URLs are the registry's replicas: heartbeats go to whichever answers.
                url: urlList(config.registry.url ?? []),
                ...(config.registry.token === undefined ? {} : { token: config.registry.token }),
                registration,
                heartbeatIntervalMs: heartbeatMs(config),
              })
            : new StoreRegistration(() => storeRegistry(config, registration.ttl), registration, heartbeatMs(config)),
        (m) => this.log(`${registration.service}: ${m}`),
      );
      this.registration = gated;
      if (this.monitor === undefined) gated.want(true, 'no health checks');
      else {
        this.monitor.on('change', (healthy) => gated.want(healthy, healthy ? 'healthy' : 'unhealthy'));
        // The checks may have passed while the inbound listener waited for its certificate.
        if (this.monitor.healthy) gated.want(true, 'healthy');
      }
    }
  }

  /**
   * Stops gracefully: deregister, drain the proxy, stop the app's process groups (SIGTERM, then
   * SIGKILL after shutdown.timeout), close the admin listener. Calling it again returns the same promise.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.monitor?.stop();
      await this.registration?.stop();
      // Callers first: their requests in flight to the app finish before the app is stopped.
      await Promise.all([this.inbound?.drain(), this.mesh?.drain()]);
      // After the drain: the last calls' records go too (within the stream's 2 s flush).
      await this.stream?.close();
      await this.supervisor.stop();
      await this.identity?.close();
      await this.admin.close();
    })();
    return this.stopping;
  }
}
