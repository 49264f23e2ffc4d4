import { WorkloadIdentity } from '@weft/adapters/weft';
import { formatSpiffeId } from '@weft/core';
import { type SidecarConfig, urlList } from '../config/sidecar-settings.js';
import { kubernetesTrustDomain } from './sidecar-registry.js';

/** When the certificate is renewed: at this share of its remaining lifetime on arrival… */
const RENEW_AT = 0.5;
/** …less up to this share of it, at random. */
const RENEW_JITTER = 0.1;

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
    // Asked for explicitly, a trust domain the CA does not have is refused loudly (403), rather
    // than the Kubernetes source announcing IDs no certificate carries.
    ...(config.identity.trustDomain === undefined ? {} : { trustDomain: config.identity.trustDomain }),
    // WorkloadIdentity's defaults, given here so that /health's renewal time reads the same numbers.
    renewAt: RENEW_AT,
    renewJitter: RENEW_JITTER,
    logger: { warn: (w) => log(`identity: ${w.message} (${w.code})`) },
  });
  let toldTrustDomain = false;
  identity.on('rotated', (reason) => {
    const cert = identity.certificate;
    if (reason === 'certificate' && cert !== undefined)
      log(`identity: ${cert.spiffeId} certificate ${cert.serialNumber}, valid until ${cert.notAfter.toISOString()}`);
    else if (reason === 'bundle') log(`identity: trust bundle updated (${identity.bundle?.length ?? 0} roots)`);
    // With the default, the two can disagree: say so (once), since every mTLS call would then fail.
    const learned = identity.spiffeId?.trustDomain;
    if (
      !toldTrustDomain &&
      config.registry.type === 'kubernetes' &&
      learned !== undefined &&
      learned !== kubernetesTrustDomain(config)
    ) {
      toldTrustDomain = true;
      log(
        `identity: the controller's trust domain is ${learned}, but the Kubernetes source announces ${kubernetesTrustDomain(config)} for mTLS Services: set identity.trustDomain to ${learned}`,
      );
    }
  });
  identity.start().catch((err: unknown) => log(`identity: ${(err as Error).message}; retrying`));
  return identity;
}

/** The `identity` section of the sidecar's GET /health. */
export interface IdentityHealth {
  /** `spiffe://…/ns/<namespace>/svc/<service>`: the certificate's, or the one asked for; null until known. */
  readonly spiffeId: string | null;
  /** The certificate's expiry (RFC 3339); null until the first certificate. */
  readonly notAfter: string | null;
  /**
   * Seconds until the certificate is renewed at the latest (half its lifetime on arrival; the
   * jitter renews up to a tenth of it earlier). 0 once due: a renewal is under way or retrying.
   * Null until the first certificate.
   */
  readonly renewsInSeconds: number | null;
  /** The certificate has expired without a renewal: the workload has no valid identity. */
  readonly expired: boolean;
  /** The last failure (a certificate request or the trust-bundle watch) since the last certificate came. */
  readonly lastError?: { readonly message: string; readonly at: string };
}

/**
 * Follows `identity`'s events for GET /health: when the current certificate came (its renewal is
 * due at {@link RENEW_AT} of the lifetime left then) and the last failure since. Returns the
 * section's reader.
 */
export function identityHealth(identity: WorkloadIdentity): (now?: number) => IdentityHealth {
  let renewalDue: number | undefined;
  let lastError: { message: string; at: string } | undefined;
  identity.on('rotated', (reason) => {
    const cert = identity.certificate;
    if (reason !== 'certificate' || cert === undefined) return;
    const arrived = Date.now();
    renewalDue = arrived + Math.max(0, cert.notAfter.getTime() - arrived) * RENEW_AT;
    lastError = undefined;
  });
  // (With a listener, the failures come here rather than to WorkloadIdentity's debug log, which the agent does not set.)
  identity.on('error', (err) => {
    lastError = { message: err.message, at: new Date().toISOString() };
  });
  return (now = Date.now()) => {
    const cert = identity.certificate;
    const asked = identity.spiffeId;
    return {
      spiffeId: cert?.spiffeId ?? (asked === undefined ? null : formatSpiffeId(asked)),
      notAfter: cert?.notAfter.toISOString() ?? null,
      renewsInSeconds:
        cert === undefined || renewalDue === undefined ? null : Math.max(0, Math.round((renewalDue - now) / 1000)),
      expired: cert !== undefined && cert.notAfter.getTime() <= now,
      ...(lastError === undefined ? {} : { lastError }),
    };
  };
}
