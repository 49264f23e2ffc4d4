import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** A PKCS#10 request for `uris` (URI SANs; `dns` adds DNS names), signed by a fresh P-256 key. */
export async function makeCsr(uris: readonly string[], dns: readonly string[] = []): Promise<string> {
  const keys = await crypto.subtle.generateKey(EC, true, ['sign', 'verify']);
  const names = [
    ...uris.map((value) => ({ type: 'url' as const, value })),
    ...dns.map((value) => ({ type: 'dns' as const, value })),
  ];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    keys,
    signingAlgorithm: EC,
    extensions: names.length === 0 ? [] : [new x509.SubjectAlternativeNameExtension(names)],
  });
  return csr.toString('pem');
}

/** An operator's CA made with the openssl command: EC P-256 key (SEC1 PEM) and a self-signed CA certificate. */
export function opensslCa(dir: string, name: string, ca = true): { certFile: string; keyFile: string } {
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.crt`);
  execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyFile]);
  execFileSync('openssl', [
    'req',
    '-x509',
    '-new',
    '-key',
    keyFile,
    '-out',
    certFile,
    '-days',
    '30',
    '-subj',
    `/O=example/CN=${name}`,
    '-addext',
    `basicConstraints=critical,CA:${ca ? 'TRUE' : 'FALSE'}`,
    '-addext',
    ca ? 'keyUsage=critical,keyCertSign,cRLSign' : 'keyUsage=critical,digitalSignature',
  ]);
  return { certFile, keyFile };
}

/** A CA certificate (and its key) that expired yesterday, written to `dir`. */
export async function expiredCa(dir: string): Promise<{ certFile: string; keyFile: string }> {
  const keys = await crypto.subtle.generateKey(EC, true, ['sign', 'verify']);
  const day = 86_400_000;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=expired',
    notBefore: new Date(Date.now() - 30 * day),
    notAfter: new Date(Date.now() - day),
    keys,
    signingAlgorithm: EC,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true)],
  });
  const certFile = join(dir, 'expired.crt');
  const keyFile = join(dir, 'expired.key');
  writeFileSync(certFile, cert.toString('pem'));
  writeFileSync(
    keyFile,
    x509.PemConverter.encode(await crypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY'),
  );
  return { certFile, keyFile };
}
