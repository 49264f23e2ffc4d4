import { readFile, stat } from 'node:fs/promises';
import { InvalidArgumentError, type ValidationIssue, validateTrustDomain } from '@weft/core';
import { CertificateAuthority } from './authority.js';
import { generateCa, writeCaFile } from './ca-generate.js';
import { type CaMaterial, caMaterial } from './ca-material.js';
import { CaInvalidError } from './errors.js';
import { IDENTITY_DEFAULTS, type IdentitySettings } from './settings.js';

/** A CA opened from settings; a generated one is made on first use (it needs the X.509 library). */
export interface OpenedAuthority {
  /** The CA, once made (the same one every call). */
  get(): Promise<CertificateAuthority>;
  /** Ends the bundle watches of the CA, if it was made. */
  close(): void;
}

async function readSetting(path: string, setting: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new CaInvalidError(
      setting,
      code === 'ENOENT' ? `${path} does not exist` : `${path} cannot be read (${code ?? (cause as Error).message})`,
      { cause },
    );
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * Opens the CA the settings describe. The operator's files (`ca.certFile` + `ca.keyFile`) and an
 * existing `ca.file` are read and checked now, so a bad CA stops the start with a
 * {@link CaInvalidError} naming the setting (`prefix` + `ca.certFile`…); a generated root is made
 * on first use and, with `ca.file`, written there (0600) for the next start.
 *
 * @throws InvalidArgumentError for contradictory settings (naming them).
 */
export async function openAuthority(settings: IdentitySettings = {}, prefix = 'identity.'): Promise<OpenedAuthority> {
  const issues: ValidationIssue[] = [];
  const ca = settings.ca ?? {};
  const trustDomain = settings.trustDomain ?? IDENTITY_DEFAULTS.trustDomain;
  try {
    validateTrustDomain(trustDomain, `${prefix}trustDomain`);
  } catch (err) {
    issues.push(...((err as InvalidArgumentError).issues ?? []));
  }
  const certTtlMs = settings.certTtlMs ?? IDENTITY_DEFAULTS.certTtlMs;
  if (!Number.isFinite(certTtlMs) || certTtlMs < 1000)
    issues.push({ path: `${prefix}certTtlMs`, message: 'must be at least 1000 ms' });
  if (ca.ttlMs !== undefined && (!Number.isFinite(ca.ttlMs) || ca.ttlMs < certTtlMs))
    issues.push({
      path: `${prefix}ca.ttlMs`,
      message: `must be at least the certificates' lifetime (${certTtlMs} ms)`,
    });
  if ((ca.certFile === undefined) !== (ca.keyFile === undefined))
    issues.push({
      path: `${prefix}ca.${ca.certFile === undefined ? 'certFile' : 'keyFile'}`,
      message: `is required with ${prefix}ca.${ca.certFile === undefined ? 'keyFile' : 'certFile'}`,
    });
  if (ca.file !== undefined && ca.certFile !== undefined)
    issues.push({
      path: `${prefix}ca.file`,
      message: `give ${prefix}ca.file or ${prefix}ca.certFile/keyFile, not both`,
    });
  if (issues.length > 0) throw new InvalidArgumentError('identity settings', issues);
  const options = { trustDomain, certTtlMs, requireServiceBinding: settings.requireServiceBinding === true };

  let made: CertificateAuthority | undefined;
  const opened = (authority: CertificateAuthority): OpenedAuthority => {
    made = authority;
    return { get: async () => authority, close: () => authority.close() };
  };
  if (ca.certFile !== undefined && ca.keyFile !== undefined) {
    const cert = await readSetting(ca.certFile, `${prefix}ca.certFile`);
    const key = await readSetting(ca.keyFile, `${prefix}ca.keyFile`);
    const material = caMaterial(cert, key, { cert: `${prefix}ca.certFile`, key: `${prefix}ca.keyFile` });
    return opened(new CertificateAuthority(material, options));
  }
  const file = ca.file;
  if (file !== undefined && (await exists(file))) {
    const text = await readSetting(file, `${prefix}ca.file`);
    return opened(
      new CertificateAuthority(caMaterial(text, text, { cert: `${prefix}ca.file`, key: `${prefix}ca.file` }), options),
    );
  }
  let making: Promise<CertificateAuthority> | undefined;
  const make = async (): Promise<CertificateAuthority> => {
    const generated = await generateCa(trustDomain, ca.ttlMs ?? IDENTITY_DEFAULTS.caTtlMs);
    if (file !== undefined) await writeCaFile(file, generated);
    const material: CaMaterial = caMaterial(generated.certPem, generated.keyPem, {
      cert: 'generated',
      key: 'generated',
    });
    made = new CertificateAuthority(material, options);
    return made;
  };
  return {
    get: () => {
      making ??= make().catch((err: unknown) => {
        making = undefined; // the next request tries again (a directory made writable…)
        throw err;
      });
      return making;
    },
    close: () => made?.close(),
  };
}
