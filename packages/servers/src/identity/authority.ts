import { randomBytes, type webcrypto, X509Certificate } from 'node:crypto';
import { formatSpiffeId } from '@weft/core';
import type { Versioned, Watchable } from '../watch/types.js';
import type { CaMaterial } from './ca-material.js';
import { checkCsr } from './csr.js';
import { IdentityForbiddenError } from './errors.js';
import { loadX509 } from './x509.js';

/** The trust bundle: the roots a workload must trust to verify its peers' certificates. */
export interface TrustBundle {
  readonly trustDomain: string;
  /** PEM certificates of the roots, newest first (after a rotation the previous roots stay until they expire). */
  readonly roots: readonly string[];
}

/** What a workload asks for: a CSR, for a service, in the namespace its credentials give. */
export interface CertificateRequest {
  /** The PKCS#10 request, PEM. */
  readonly csr: string;
  /** The service the workload asks an identity for; the CSR's URI SAN must name it. */
  readonly service: string;
  /** The namespace the request's credentials give (`request.namespace`); the CSR's URI SAN must name it. */
  readonly namespace: string;
  /**
   * The services the request's credentials are bound to (`request.boundServices`): `service` must
   * be one of them. `undefined`: namespace-wide credentials, any service of the namespace.
   */
  readonly services?: readonly string[] | undefined;
}

/** A signed workload certificate, with what the workload needs to use it. */
export interface IssuedCertificate {
  /** `spiffe://<trust domain>/ns/<namespace>/svc/<service>`, the certificate's URI SAN. */
  readonly spiffeId: string;
  /** The leaf, PEM. */
  readonly certificate: string;
  /** The leaf then the intermediates, PEM each: what the workload presents in a TLS handshake. */
  readonly chain: readonly string[];
  /** The trust bundle's roots when the certificate was signed. */
  readonly roots: readonly string[];
  /** Hex, as in the certificate. */
  readonly serialNumber: string;
  /** ISO 8601. */
  readonly notBefore: string;
  readonly notAfter: string;
}

/** Options of {@link CertificateAuthority}. */
export interface CertificateAuthorityOptions {
  /** The trust domain every identity is in (`weft.local`). */
  readonly trustDomain: string;
  /** Lifetime of a workload certificate, ms (clipped to the CA's own). */
  readonly certTtlMs: number;
  /** The time, ms since the epoch (tests). Default `Date.now`. */
  readonly now?: () => number;
  /** Refuse requests whose credentials are not bound to services (`services` undefined). Default false. */
  readonly requireServiceBinding?: boolean | undefined;
}

/** How far a leaf's `notBefore` is backdated, at most: clocks of the mesh's machines drift a little. */
const BACKDATE_MS = 30_000;

/** WebCrypto's signing algorithm for a CA key. */
function signingAlgorithm(material: CaMaterial): {
  import: webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams;
  sign: object;
} {
  if (material.key.asymmetricKeyType === 'rsa') {
    const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    return { import: alg, sign: alg };
  }
  const p384 = material.key.asymmetricKeyDetails?.namedCurve === 'secp384r1';
  return {
    import: { name: 'ECDSA', namedCurve: p384 ? 'P-384' : 'P-256' },
    sign: { name: 'ECDSA', hash: p384 ? 'SHA-384' : 'SHA-256' },
  };
}

/**
 * The mesh's certificate authority: signs short-lived workload certificates (X.509 SVIDs) from
 * CSRs whose identity the request's credentials allow, and publishes the trust bundle as a
 * {@link Watchable}, so rotation reaches every watcher as a new revision.
 */
export class CertificateAuthority {
  readonly trustDomain: string;
  private readonly certTtlMs: number;
  private readonly now: () => number;
  private readonly requireServiceBinding: boolean;
  private material: CaMaterial;
  /** Every root in the bundle with its expiry; older roots stay after a rotation until they expire. */
  private roots: { pem: string; notAfter: number }[] = [];
  private revision = 0;
  private state!: Versioned<TrustBundle>;
  private readonly watchers = new Set<{
    listener: (state: Versioned<TrustBundle>) => void;
    onEnd: ((reason: unknown) => void) | undefined;
  }>();
  private closed: { reason: unknown } | undefined;

  constructor(material: CaMaterial, options: CertificateAuthorityOptions) {
    this.trustDomain = options.trustDomain;
    this.certTtlMs = options.certTtlMs;
    this.now = options.now ?? Date.now;
    this.requireServiceBinding = options.requireServiceBinding === true;
    this.material = material;
    this.addRoots(material);
  }

  /** The trust bundle now, at its revision (1, then one more per rotation). */
  trustBundle(): Versioned<TrustBundle> {
    return this.state;
  }

  /** The trust bundle as a watchable read (for `serveRead`): current first, then every rotation. */
  readonly bundle: Watchable<TrustBundle> = {
    current: async () => this.state,
    subscribe: (listener, onEnd) => {
      if (this.closed !== undefined) {
        onEnd?.(this.closed.reason);
        return () => {};
      }
      const watcher = { listener, onEnd };
      this.watchers.add(watcher);
      listener(this.state);
      return () => this.watchers.delete(watcher);
    },
  };

  /**
   * Signs a workload certificate for `request`, after checking that the credentials may have the
   * service's identity (their service binding), the CSR (see `checkCsr`), and that its identity
   * is the one allowed: the CA's trust domain, the credentials' namespace, the service the
   * request names.
   *
   * @throws InvalidArgumentError for a bad CSR (naming `csr`, `csr.subjectAltName`) or service.
   * @throws IdentityForbiddenError (403) for a service outside the binding (or no binding when
   *   `requireServiceBinding`), another trust domain, namespace or service.
   */
  async issue(request: CertificateRequest): Promise<IssuedCertificate> {
    // First, before any crypto: a credential that may not have this identity learns nothing more.
    this.checkBinding(request);
    const x509 = await loadX509();
    const csr = await checkCsr(x509, request.csr);
    const wanted = { trustDomain: this.trustDomain, namespace: request.namespace, service: request.service };
    const expected = formatSpiffeId(wanted);
    const asked = csr.spiffeId;
    if (asked.trustDomain !== wanted.trustDomain)
      throw new IdentityForbiddenError(
        `the request asks for ${csr.uri}, in trust domain ${asked.trustDomain}: this CA signs ${wanted.trustDomain} only`,
      );
    if (asked.namespace !== wanted.namespace)
      throw new IdentityForbiddenError(
        `the request asks for ${csr.uri}, in namespace ${asked.namespace}: these credentials are for namespace ${wanted.namespace} (${expected})`,
      );
    if (asked.service !== wanted.service)
      throw new IdentityForbiddenError(
        `the request asks for ${csr.uri}, for service ${asked.service}, but names service ${wanted.service} (${expected})`,
      );
    const material = this.material;
    const alg = signingAlgorithm(material);
    const signingKey = material.key.toCryptoKey(alg.import, false, ['sign']);
    const ca = new x509.X509Certificate(material.cert.raw);
    const now = this.now();
    const notAfter = Math.min(now + this.certTtlMs, material.cert.validToDate.getTime());
    const notBefore = now - Math.min(BACKDATE_MS, this.certTtlMs);
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: randomBytes(16)
        .toString('hex')
        .replace(/^[89a-f]/, '7'),
      subject: `O=${wanted.trustDomain}, OU=${wanted.namespace}, CN=${wanted.service}`,
      issuer: ca.subjectName,
      notBefore: new Date(notBefore),
      notAfter: new Date(notAfter),
      publicKey: csr.publicKey,
      signingKey,
      signingAlgorithm: alg.sign,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: expected }]),
        await x509.SubjectKeyIdentifierExtension.create(csr.publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(ca),
      ],
    });
    const certificate = `${leaf.toString('pem')}\n`;
    // Node's own parser reads it back: a certificate it could not use is never handed out.
    const checked = new X509Certificate(certificate);
    if (!checked.verify(material.cert.publicKey)) throw new Error('the signed certificate does not verify');
    return {
      spiffeId: expected,
      certificate,
      chain: [certificate, ...material.intermediates],
      roots: this.state.value.roots,
      serialNumber: checked.serialNumber,
      notBefore: checked.validFromDate.toISOString(),
      notAfter: checked.validToDate.toISOString(),
    };
  }

  /** The service binding of the credentials allows `request.service` (and one is there, when required). */
  private checkBinding(request: CertificateRequest): void {
    const { services, service, namespace } = request;
    if (services === undefined) {
      if (this.requireServiceBinding)
        throw new IdentityForbiddenError(
          `a certificate for service ${service} needs credentials bound to it (identity.requireServiceBinding): these are for the whole namespace ${namespace}, bound to no service`,
        );
      return;
    }
    if (!services.includes(service))
      throw new IdentityForbiddenError(
        `the request asks for service ${service}: these credentials are bound to ${services.length === 1 ? 'service' : 'services'} ${services.join(', ')} in namespace ${namespace}`,
      );
  }

  /**
   * Signs with new material from now on (a new CA, or the operator's renewed one). Its roots join
   * the trust bundle — a new revision, pushed to every watcher — and the previous roots stay in
   * it until they expire, so certificates signed before the rotation keep verifying.
   */
  rotate(material: CaMaterial): void {
    this.material = material;
    this.addRoots(material);
  }

  /** Ends every bundle watch (the server closes). */
  close(reason: unknown = new Error('the certificate authority closed')): void {
    this.closed = { reason };
    for (const w of [...this.watchers]) w.onEnd?.(reason);
    this.watchers.clear();
  }

  private addRoots(material: CaMaterial): void {
    const now = this.now();
    const fresh = material.roots.map((pem) => ({ pem, notAfter: new X509Certificate(pem).validToDate.getTime() }));
    const kept = this.roots.filter((r) => r.notAfter > now && !fresh.some((f) => f.pem === r.pem));
    this.roots = [...fresh, ...kept];
    this.revision += 1;
    this.state = {
      revision: this.revision,
      value: { trustDomain: this.trustDomain, roots: this.roots.map((r) => r.pem) },
    };
    for (const w of [...this.watchers]) w.listener(this.state);
  }
}
