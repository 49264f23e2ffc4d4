import { createPublicKey } from 'node:crypto';
import type * as X509Module from '@peculiar/x509';
import { InvalidArgumentError, parseSpiffeId, type SpiffeId } from '@weft/core';

/** A checked certificate signing request: the identity it asks for and the key it proves. */
export interface CheckedCsr {
  readonly spiffeId: SpiffeId;
  /** The URI SAN as sent. */
  readonly uri: string;
  readonly publicKey: X509Module.PublicKey;
}

const bad = (path: string, message: string): InvalidArgumentError =>
  new InvalidArgumentError('certificate request', [{ path, message }]);

/**
 * Reads a PKCS#10 request (PEM) and checks what a CA must before signing it: its signature (the
 * sender holds the key it carries), its key (ECDSA P-256), and its subject alternative names —
 * exactly one, a URI that is a workload identity (`spiffe://<td>/ns/<ns>/svc/<svc>`).
 *
 * @throws InvalidArgumentError naming `csr` or `csr.subjectAltName`.
 */
export async function checkCsr(x509: typeof X509Module, pem: string): Promise<CheckedCsr> {
  let request: X509Module.Pkcs10CertificateRequest;
  try {
    request = new x509.Pkcs10CertificateRequest(pem);
  } catch {
    throw bad('csr', 'is not a PEM PKCS#10 certificate request (-----BEGIN CERTIFICATE REQUEST-----)');
  }
  if (!(await request.verify().catch(() => false)))
    throw bad('csr', 'its signature does not verify: it must be signed by the private key it carries');
  const key = createPublicKey({ key: Buffer.from(request.publicKey.rawData), format: 'der', type: 'spki' });
  // P-256 only: the key every Weft workload makes, and what the proxies' TLS will be tuned for.
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
    throw bad('csr', 'its key must be an ECDSA P-256 key');
  let names: readonly X509Module.GeneralName[];
  try {
    const san = request.extensions.find((e) => e instanceof x509.SubjectAlternativeNameExtension);
    names = san?.names.items ?? [];
  } catch {
    // A malformed extension (or a name of a kind the library cannot read): still the sender's fault.
    throw bad('csr.subjectAltName', 'cannot be read: its extensions are malformed');
  }
  if (names.length !== 1 || names[0]?.type !== 'url')
    throw bad(
      'csr.subjectAltName',
      `must hold exactly one name, the workload's URI (spiffe://<trust-domain>/ns/<namespace>/svc/<service>); got ${
        names.length === 0 ? 'none' : names.map((n) => `${n.type}:${n.value}`).join(', ')
      }`,
    );
  const uri = names[0].value;
  return { spiffeId: parseSpiffeId(uri, 'csr.subjectAltName'), uri, publicKey: request.publicKey };
}
