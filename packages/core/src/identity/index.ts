export {
  checkSpiffeId,
  DEFAULT_TRUST_DOMAIN,
  formatSpiffeId,
  parseSpiffeId,
  type SpiffeId,
  sameSpiffeId,
  validateTrustDomain,
} from './spiffe-id.js';
