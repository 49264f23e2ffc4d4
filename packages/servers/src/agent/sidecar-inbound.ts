import { WeftAuthorizationSource, type WorkloadIdentity } from '@weft/adapters/weft';
import { InboundProxy, MeshMetrics } from '@weft/proxy/sidecar';
import { type SidecarConfig, urlList } from '../config/sidecar-settings.js';
import type { InboundHealth } from './sidecar-health.js';

/** The started inbound mTLS listener of the agent. */
export interface Inbound {
  readonly proxy: InboundProxy;
  /** The port it listens on (the one registered). */
  readonly port: number;
  /** The SPIFFE ID it presents: the `weft_mtls` metadata of the registration. */
  readonly spiffeId: string;
  /** Its metrics, named `weft_inbound_*` so they sit beside the outbound proxy's in /metrics. */
  metricsText(): string;
  /** Stops accepting, lets the requests in flight finish, stops following the policies. */
  drain(): Promise<void>;
}

/** True when the config asks for an inbound listener (`inbound.port` set and not 0). */
export const wantsInbound = (config: SidecarConfig): boolean =>
  config.inbound.port !== undefined && config.inbound.port !== 0;

/** The `inbound` section of GET /health: the configured port until the listener listens (it waits for the first certificate). */
export function inboundHealth(config: SidecarConfig, inbound: Inbound | undefined): InboundHealth {
  return {
    listening: inbound !== undefined,
    port: inbound?.port ?? (config.inbound.port as number),
    mtls: config.mtls.mode,
  };
}

/** Resolves once the identity holds a certificate and a trust bundle (it keeps retrying in the background). */
export function firstCertificate(identity: WorkloadIdentity): Promise<void> {
  const ready = (): boolean => identity.certificate !== undefined && identity.bundle !== undefined;
  if (ready()) return Promise.resolve();
  return new Promise((resolve) => {
    const onRotated = (): void => {
      if (!ready()) return;
      identity.off('rotated', onRotated);
      resolve();
    };
    identity.on('rotated', onRotated);
  });
}

/**
 * Starts the inbound listener once the workload has its first certificate: TLS with that
 * certificate (renewed in place), `mtls.mode`, every request forwarded to the app at
 * `127.0.0.1:<endpoint.port>`, judged by the controller's authorization policies with the app's
 * service as the destination (followed like the outbound proxy's).
 */
export async function openInbound(
  config: SidecarConfig,
  identity: WorkloadIdentity,
  log: (message: string) => void,
): Promise<Inbound> {
  const service = config.service.name as string;
  await firstCertificate(identity);
  // firstCertificate() resolved: there is one.
  const spiffeId = (identity.certificate as { spiffeId: string }).spiffeId;
  const metrics = new MeshMetrics();
  const quiet = ['silent', 'fatal', 'error', 'warn'].includes(config.logLevel);
  const proxy = new InboundProxy({
    service,
    app: { host: '127.0.0.1', port: config.endpoint.port as number },
    host: config.inbound.host,
    port: config.inbound.port as number,
    mtls: { credentials: identity, mode: config.mtls.mode },
    metrics,
    // The records of calls received: info-level output, as the outbound proxy's.
    accessLog: !quiet,
    drainTimeoutMs: config.shutdown.timeout,
  });
  const controllerToken = config.controller.token ?? config.registry.token;
  const policies = new WeftAuthorizationSource({
    url: urlList(config.controller.url ?? config.registry.url ?? []),
    ...(controllerToken === undefined ? {} : { token: controllerToken }),
  });
  const following = policies.follow(proxy);
  let port: number;
  try {
    ({ port } = await proxy.listen());
  } catch (err) {
    following.unsubscribe();
    await policies.close();
    await proxy.close();
    throw err;
  }
  log(`inbound mTLS listener (${config.mtls.mode}) on ${config.inbound.host}:${port} as ${spiffeId}`);
  return {
    proxy,
    port,
    spiffeId,
    metricsText: () => inboundMetricsText(metrics.text()),
    async drain() {
      await proxy.drain();
      following.unsubscribe();
      await policies.close();
    },
  };
}

/** The inbound proxy's Prometheus text with every family renamed `weft_…` → `weft_inbound_…`. */
export function inboundMetricsText(text: string): string {
  return text.replace(/^(# (?:HELP|TYPE) )?weft_/gm, '$1weft_inbound_');
}
