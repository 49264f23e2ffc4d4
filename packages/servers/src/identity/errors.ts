import { WeftError } from '@weft/core';

/**
 * A certificate request for an identity the request's credentials do not allow: another
 * namespace than the token's, another service than the request names, a service outside the
 * token's service binding (or no binding where `identity.requireServiceBinding` asks for one),
 * another trust domain than the CA's (403, `WEFT_ERR_IDENTITY_FORBIDDEN`).
 */
export class IdentityForbiddenError extends WeftError {
  constructor(message: string) {
    super('WEFT_ERR_IDENTITY_FORBIDDEN', message);
    this.name = 'IdentityForbiddenError';
  }
}

/**
 * The CA files are unusable: unreadable, no certificate, not a CA, expired or not yet valid, a
 * key that does not match (`WEFT_ERR_CA_INVALID`). `setting` names the setting (or option) that
 * gave the file: `identity.ca.certFile`, `identity.ca.keyFile`, `identity.ca.file`.
 */
export class CaInvalidError extends WeftError {
  readonly setting: string;
  constructor(setting: string, message: string, options: { cause?: unknown } = {}) {
    super('WEFT_ERR_CA_INVALID', `${setting}: ${message}`, options);
    this.name = 'CaInvalidError';
    this.setting = setting;
  }
}
