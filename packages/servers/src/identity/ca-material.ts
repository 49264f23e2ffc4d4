import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { CaInvalidError } from './errors.js';
import { pemBlocks, privateKeyBlock } from './pem.js';

/**
 * A certificate authority's signing material, checked: its certificate and private key, what
 * goes after a leaf in a chain, and the roots peers must trust. Built with node's crypto only,
 * so bad CA files fail a server's start before the X.509 library is ever loaded.
 */
export interface CaMaterial {
  /** The certificate that signs leaves. */
  readonly cert: X509Certificate;
  /** Its private key (EC P-256 / P-384 or RSA). */
  readonly key: KeyObject;
  /** PEMs sent after a leaf: the CA's own certificate when it is not a root, and its issuers below the root. */
  readonly intermediates: readonly string[];
  /** PEMs of the roots a peer must trust: this CA's contribution to the trust bundle. */
  readonly roots: readonly string[];
}

/** The settings (or option paths) that gave the certificate and the key, for error messages. */
export interface MaterialSettings {
  readonly cert: string;
  readonly key: string;
}

function selfSigned(cert: X509Certificate): boolean {
  return cert.checkIssued(cert) && cert.verify(cert.publicKey);
}

function keyIsUsable(key: KeyObject): boolean {
  if (key.asymmetricKeyType === 'rsa') return true;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return key.asymmetricKeyType === 'ec' && (curve === 'prime256v1' || curve === 'secp384r1');
}

/**
 * Checks CA material given as PEM text: `certText` holds the CA's certificate first, then
 * optionally its issuers up to the root (an intermediate CA); `keyText` the CA's private key
 * (unencrypted PEM: PKCS#8, SEC1 or PKCS#1). Refuses a file without a certificate, a certificate
 * that is not a CA, one expired or not yet valid at `now`, a key that is not the certificate's
 * or of another kind than EC P-256/P-384 and RSA — each with a {@link CaInvalidError} naming the
 * setting that gave the file.
 */
export function caMaterial(
  certText: string,
  keyText: string,
  settings: MaterialSettings,
  now: number = Date.now(),
): CaMaterial {
  const pems = pemBlocks(certText, 'CERTIFICATE');
  if (pems.length === 0)
    throw new CaInvalidError(settings.cert, 'holds no PEM certificate (-----BEGIN CERTIFICATE-----)');
  const certs = pems.map((pem, i) => {
    try {
      return new X509Certificate(pem);
    } catch (cause) {
      throw new CaInvalidError(settings.cert, `certificate #${i + 1} cannot be parsed: ${(cause as Error).message}`, {
        cause,
      });
    }
  });
  const cert = certs[0] as X509Certificate;
  if (!cert.ca)
    throw new CaInvalidError(
      settings.cert,
      `is not a CA certificate (${cert.subject.replace(/\n/g, ', ')} has no basicConstraints CA:TRUE): only a CA may sign workload certificates`,
    );
  if (cert.validToDate.getTime() <= now)
    throw new CaInvalidError(settings.cert, `expired on ${cert.validToDate.toISOString()}`);
  if (cert.validFromDate.getTime() > now)
    throw new CaInvalidError(settings.cert, `is not valid before ${cert.validFromDate.toISOString()}`);
  const keyPem = privateKeyBlock(keyText);
  if (keyPem === undefined)
    throw new CaInvalidError(settings.key, 'holds no unencrypted PEM private key (-----BEGIN PRIVATE KEY-----)');
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch (cause) {
    throw new CaInvalidError(settings.key, `cannot be read as a private key: ${(cause as Error).message}`, { cause });
  }
  if (!keyIsUsable(key)) throw new CaInvalidError(settings.key, 'must be an EC (P-256 or P-384) or RSA private key');
  if (!cert.checkPrivateKey(key))
    throw new CaInvalidError(settings.key, `does not match the certificate in ${settings.cert} (another key pair)`);
  if (selfSigned(cert)) return { cert, key, intermediates: [], roots: [pems[0] as string] };
  // An intermediate CA: leaves are sent with it and the issuers below the root; peers trust the root.
  const last = certs.length > 1 ? (certs[certs.length - 1] as X509Certificate) : undefined;
  const root = last !== undefined && selfSigned(last) ? (pems[pems.length - 1] as string) : undefined;
  const intermediates = root === undefined ? pems : pems.slice(0, -1);
  // Without its root in the file, the CA itself is the trust anchor peers get.
  return { cert, key, intermediates, roots: [root ?? (pems[0] as string)] };
}
