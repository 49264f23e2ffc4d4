export {
  CertificateAuthority,
  type CertificateAuthorityOptions,
  type CertificateRequest,
  type IssuedCertificate,
  type TrustBundle,
} from './authority.js';
export { type GeneratedCa, generateCa } from './ca-generate.js';
export { type CaMaterial, caMaterial, type MaterialSettings } from './ca-material.js';
export { CaInvalidError, IdentityForbiddenError } from './errors.js';
export { mountIdentity } from './mount.js';
export { type OpenedAuthority, openAuthority } from './open-authority.js';
export { type IdentityRoutesOptions, identityRoutes } from './routes.js';
export { IDENTITY_DEFAULTS, type IdentitySettings } from './settings.js';
