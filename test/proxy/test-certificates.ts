/**
 * A throw-away certificate authority for TLS tests: an ECDSA P-256 root and leaves with the SANs
 * a test asks for (a SPIFFE URI for workload identities), made with @peculiar/x509 on node's
 * WebCrypto — no files, no openssl.
 */
import 'reflect-metadata'; // @peculiar/x509's container (tsyringe) needs the polyfill first
import { webcrypto } from 'node:crypto';
import { EventEmitter } from 'node:events';
import * as x509 from '@peculiar/x509';

type KeyPair = webcrypto.CryptoKeyPair;
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;

/** A certificate and its key, in PEM. */
export interface Pem {
  readonly cert: string;
  readonly key: string;
}

async function keyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

/** A test CA: its root in PEM, and `issue()` for leaves. */
export interface TestCa {
  readonly cert: string;
  issue(
    subject: string,
    san: { uri?: string; dns?: string; ip?: string },
    validity?: { notBefore?: Date; notAfter?: Date },
  ): Promise<Pem>;
}

let serial = 1;

export async function testCa(name = 'weft test CA'): Promise<TestCa> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as KeyPair;
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: (serial++).toString(16).padStart(2, '0'),
    name: `CN=${name}`,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + DAY),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  return {
    cert: root.toString('pem'),
    async issue(subject, san, validity = {}) {
      const leafKeys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as KeyPair;
      const names: x509.JsonGeneralName[] = [];
      if (san.uri !== undefined) names.push({ type: 'url', value: san.uri });
      if (san.dns !== undefined) names.push({ type: 'dns', value: san.dns });
      if (san.ip !== undefined) names.push({ type: 'ip', value: san.ip });
      const leaf = await x509.X509CertificateGenerator.create({
        serialNumber: (serial++).toString(16).padStart(2, '0'),
        subject: `CN=${subject}`,
        issuer: root.subject,
        notBefore: validity.notBefore ?? new Date(Date.now() - DAY),
        notAfter: validity.notAfter ?? new Date(Date.now() + DAY),
        signingKey: keys.privateKey,
        publicKey: leafKeys.publicKey,
        signingAlgorithm: ALG,
        extensions: [
          new x509.SubjectAlternativeNameExtension(names),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
        ],
      });
      return { cert: leaf.toString('pem'), key: await keyPem(leafKeys.privateKey) };
    },
  };
}

/** The SPIFFE prefix the mTLS tests' services share: `${TD}/reviews`. */
export const TD = 'spiffe://weft.test/ns/default/svc';

/** Credentials as a WorkloadIdentity gives them: the current key and chain, the bundle, and 'rotated'. */
export class TestCredentials extends EventEmitter {
  constructor(
    public pem: Pem,
    readonly ca: string,
  ) {
    super();
  }
  tlsOptions() {
    return { key: this.pem.key, cert: this.pem.cert, ca: [this.ca] };
  }
  rotate(pem: Pem): void {
    this.pem = pem;
    this.emit('rotated', 'certificate');
  }
}
