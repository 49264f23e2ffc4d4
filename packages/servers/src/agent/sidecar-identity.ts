import { WorkloadIdentity } from '@weft/adapters/weft';
import { type SidecarConfig, urlList } from '../config/sidecar-settings.js';

/**
 * The agent's workload identity when `identity.enabled`: a certificate for the app's service from
 * the controller's CA (`controller.url`, else Weft's `registry.url`; `controller.token`, else
 * `registry.token`), renewed at half-life, the trust bundle followed. Started in the background —
 * the app is not held up by the CA — and logged on every rotation. The outbound proxy presents it
 * to peers that announce `weft_mtls`, and the inbound listener (`inbound.port`) serves with it
 * (sidecar-inbound.ts). Undefined when identities are off.
 */
export function openWorkloadIdentity(
  config: SidecarConfig,
  log: (message: string) => void,
): WorkloadIdentity | undefined {
  const service = config.service.name;
  const url = config.controller.url ?? (config.registry.type === 'weft' ? config.registry.url : undefined);
  if (!config.identity.enabled || service === undefined || url === undefined) return undefined;
  const token = config.controller.token ?? config.registry.token;
  const identity = new WorkloadIdentity({
    url: urlList(url),
    ...(token === undefined ? {} : { token }),
    service,
    logger: { warn: (w) => log(`identity: ${w.message} (${w.code})`) },
  });
  identity.on('rotated', (reason) => {
    const cert = identity.certificate;
    if (reason === 'certificate' && cert !== undefined)
      log(`identity: ${cert.spiffeId} certificate ${cert.serialNumber}, valid until ${cert.notAfter.toISOString()}`);
    else if (reason === 'bundle') log(`identity: trust bundle updated (${identity.bundle?.length ?? 0} roots)`);
  });
  identity.start().catch((err: unknown) => log(`identity: ${(err as Error).message}; retrying`));
  return identity;
}
