import * as z from 'zod/mini';
import { section, setting } from './define.js';
import { DurationSchema } from './duration.js';

const text = z.string().check(z.minLength(1, { error: 'must not be empty' }));
const bool = z.boolean({ error: 'must be true or false' });
/** SPIFFE's trust domain grammar (core's `validateTrustDomain`), as a pattern the JSON Schema carries. */
const TRUST_DOMAIN = /^[a-z0-9._-]{1,255}$/;
/** A trust domain setting: the controller's (its identities) and the sidecar's (the mesh's it joins). */
const trustDomain = z
  .string()
  .check(z.regex(TRUST_DOMAIN, { error: "must be a SPIFFE trust domain: lower-case letters, digits, '.', '-', '_'" }));

/** The controller's identity settings (`identity.*` of `weft controller` and `weft control-plane`). */
export function identitySection() {
  return section(
    {
      enabled: setting(bool, {
        kind: 'boolean',
        description:
          'Serve workload identities: POST /v1/identity/certificates signs workload certificates (SPIFFE IDs) from CSRs, GET /v1/identity/bundle publishes the trust bundle (watchable)',
        default: true,
      }),
      trustDomain: setting(trustDomain, {
        kind: 'string',
        placeholder: '<domain>',
        description: 'Trust domain of every identity: spiffe://<trustDomain>/ns/<namespace>/svc/<service>',
        default: 'weft.local',
      }),
      certTtl: setting(DurationSchema, {
        kind: 'duration',
        description: 'Lifetime of a workload certificate (workloads renew at half of it); at least 1s',
        default: '24h',
      }),
      requireServiceBinding: setting(bool, {
        kind: 'boolean',
        description:
          'Sign only for credentials bound to services (a JWT with auth.jwtServicesClaim), each for its own services: namespace-wide credentials (modes none, trusted, admin, a JWT without the claim) get 403 from the CA',
        default: false,
      }),
      ca: section(
        {
          certFile: setting(text, {
            kind: 'string',
            flag: 'ca-cert',
            placeholder: '<file>',
            description:
              "PEM file of the operator's CA certificate (then its issuers up to the root, for an intermediate CA); with identity.ca.keyFile. Default: a root generated on first use",
          }),
          keyFile: setting(text, {
            kind: 'string',
            flag: 'ca-key',
            placeholder: '<file>',
            description: "PEM file of the CA's unencrypted private key (EC P-256/P-384 or RSA)",
          }),
          file: setting(text, {
            kind: 'string',
            placeholder: '<file>',
            description:
              'Where the generated root CA is kept (certificate and key, PEM, mode 0600): created on first use, reused by later starts. Default: kept in memory only',
          }),
          ttl: setting(DurationSchema, {
            kind: 'duration',
            description: 'Lifetime of a generated root CA',
            default: '8760h',
          }),
        },
        'The certificate authority that signs workload certificates',
      ),
    },
    'Workload identities: a CA that signs short-lived workload certificates, and the trust bundle',
  );
}

/** The validated identity settings, as far as the checks below need them. */
interface IdentityConfig {
  certTtl: number;
  ca: { certFile?: string | undefined; keyFile?: string | undefined; file?: string | undefined; ttl: number };
}

/** The cross-field rules of the identity settings. */
export function checkIdentity(
  identity: IdentityConfig,
  issue: (path: readonly string[], message: string) => void,
): void {
  const { ca } = identity;
  if (ca.certFile !== undefined && ca.keyFile === undefined)
    issue(['identity', 'ca', 'keyFile'], 'is required with identity.ca.certFile');
  if (ca.keyFile !== undefined && ca.certFile === undefined)
    issue(['identity', 'ca', 'certFile'], 'is required with identity.ca.keyFile');
  if (ca.file !== undefined && ca.certFile !== undefined)
    issue(
      ['identity', 'ca', 'file'],
      'give identity.ca.file (a generated CA) or identity.ca.certFile/keyFile, not both',
    );
  if (identity.certTtl < 1000) issue(['identity', 'certTtl'], 'must be at least 1s');
  else if (ca.ttl < identity.certTtl) issue(['identity', 'ca', 'ttl'], 'must be at least identity.certTtl');
}

/** The sidecar's identity settings (`identity.enabled` of `weft sidecar`). */
export function sidecarIdentitySection() {
  return section(
    {
      enabled: setting(bool, {
        kind: 'boolean',
        description:
          "Get a workload certificate (spiffe://<trust domain>/ns/<namespace>/svc/<service>) from the controller (controller.url, with controller.token) and keep it renewed at half-life; the proxy's mTLS uses it: inbound.port, and calls to endpoints that announce weft_mtls",
        default: false,
      }),
      trustDomain: setting(trustDomain, {
        kind: 'string',
        placeholder: '<domain>',
        description:
          "The mesh's trust domain (the controller's identity.trustDomain): the certificate is asked in it, and with registry.type kubernetes it names the weft_mtls IDs of Services with an mTLS port (appProtocol weft.dev/mtls). Default: the controller's (from its trust bundle) for the certificate, weft.local for the Kubernetes IDs",
      }),
    },
    "The workload's identity (a certificate from the controller's CA)",
  );
}

/** The sidecar's identity needs a service to name and a controller to ask. */
export function checkSidecarIdentity(
  c: {
    identity?: { enabled: boolean } | undefined;
    service: { name?: string | undefined };
    registry: { url?: string | readonly string[] | undefined; type: string };
    controller: { url?: string | readonly string[] | undefined };
  },
  issue: (path: readonly string[], message: string) => void,
): void {
  if (c.identity?.enabled !== true) return;
  if (c.service.name === undefined)
    issue(['service', 'name'], 'is required by identity.enabled (the identity names it)');
  if (c.controller.url === undefined && (c.registry.type !== 'weft' || c.registry.url === undefined))
    issue(['controller', 'url'], 'is required by identity.enabled (the controller signs the certificate)');
}
