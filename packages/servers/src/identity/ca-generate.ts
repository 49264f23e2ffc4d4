import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { loadX509 } from './x509.js';

/** A generated CA as PEM text: its self-signed certificate and PKCS#8 private key. */
export interface GeneratedCa {
  readonly certPem: string;
  readonly keyPem: string;
}

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/**
 * Generates a self-signed root CA for `trustDomain`: an ECDSA P-256 key pair (made here, by
 * WebCrypto) and a certificate valid for `ttlMs` from `now` (backdated a minute for clock skew),
 * CA:TRUE with path length 0 (it signs workloads only), key usage keyCertSign and cRLSign, and the
 * trust domain's SPIFFE ID (`spiffe://<trust domain>`) as its URI SAN.
 */
export async function generateCa(trustDomain: string, ttlMs: number, now: number = Date.now()): Promise<GeneratedCa> {
  const x509 = await loadX509();
  const keys = await crypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(16)
      .toString('hex')
      .replace(/^[89a-f]/, '7'),
    name: `O=${trustDomain}, CN=Weft mesh CA`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + ttlMs),
    keys,
    signingAlgorithm: EC_P256,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `spiffe://${trustDomain}` }]),
    ],
  });
  const pkcs8 = await crypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { certPem: `${cert.toString('pem')}\n`, keyPem: `${x509.PemConverter.encode(pkcs8, 'PRIVATE KEY')}\n` };
}

/**
 * Writes a generated CA to `path` (certificate, then key, PEM) readable by its owner only (0600),
 * atomically: a temporary file in the same directory, fsynced, renamed over `path`.
 */
export async function writeCaFile(path: string, ca: GeneratedCa): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const file = await open(temp, 'wx', 0o600);
  try {
    await file.writeFile(`${ca.certPem}${ca.keyPem}`);
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}
