import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A throwaway self-signed certificate (RSA 2048, one day) for `commonName`, made with the openssl
 * CLI; `subjectAltName` as openssl writes it (`URI:spiffe://…,DNS:…`).
 */
export function selfSignedCertificate(
  commonName = 'localhost',
  subjectAltName?: string,
): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'weft-tls-'));
  try {
    try {
      const subject = ['-days', '1', '-subj', `/CN=${commonName}`];
      if (subjectAltName !== undefined) subject.push('-addext', `subjectAltName=${subjectAltName}`);
      const args = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem'];
      execFileSync('openssl', [...args, ...subject], { cwd: dir, stdio: 'pipe' });
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
      throw new Error(
        err.code === 'ENOENT'
          ? 'the tests need the `openssl` CLI on PATH to make a self-signed certificate'
          : `openssl failed to make a self-signed certificate: ${err.stderr?.toString() ?? err.message}`,
      );
    }
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
