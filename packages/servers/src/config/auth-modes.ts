import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { AuthMode } from '../auth/authenticator.js';
import { ADMIN_TOKEN_MIN, JWT_SECRET_MIN } from './auth-settings.js';
import type { ControlPlaneConfig } from './schemas.js';

/** The auth settings after validation. */
type AuthSettings = ControlPlaneConfig['auth'];

/** Reports a problem with a setting; the caller collects them into one `ConfigError`. */
export type Report = (path: readonly string[], message: string) => void;

/** A secret given inline, or read from its file (without a trailing newline, which editors and `echo` add). */
async function secret(
  inline: string | undefined,
  file: string | undefined,
  fileKey: string,
  min: number,
  cwd: string,
  report: Report,
): Promise<string | undefined> {
  if (inline !== undefined) return inline;
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = (await readFile(resolve(cwd, file), 'utf8')).replace(/\r?\n$/, '');
  } catch (err) {
    report(['auth', fileKey], `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    return undefined;
  }
  if (text.length < min) {
    report(['auth', fileKey], `must hold at least ${min} characters`);
    return undefined;
  }
  return text;
}

/**
 * The authenticator's chain from the settings, with secrets read from their files. Problems
 * (an unreadable file, a short secret in it) go to `report`; the result is then incomplete and
 * the caller throws.
 */
export async function toAuthModes(auth: AuthSettings, cwd: string, report: Report): Promise<AuthMode[]> {
  const modes: AuthMode[] = [];
  for (const type of auth.modes) {
    switch (type) {
      case 'none':
        modes.push({ type, namespace: auth.namespace });
        break;
      case 'trusted':
        modes.push({ type });
        break;
      case 'jwt': {
        const s = await secret(auth.jwtSecret, auth.jwtSecretFile, 'jwtSecretFile', JWT_SECRET_MIN, cwd, report);
        if (s !== undefined)
          modes.push({ type, secret: s, claim: auth.jwtClaim, servicesClaim: auth.jwtServicesClaim });
        break;
      }
      case 'admin': {
        const t = await secret(auth.adminToken, auth.adminTokenFile, 'adminTokenFile', ADMIN_TOKEN_MIN, cwd, report);
        if (t !== undefined) modes.push({ type, token: t, header: auth.adminHeader });
        break;
      }
    }
  }
  return modes;
}
