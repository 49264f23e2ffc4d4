export { CidrSet, cidrProblem } from './cidr.js';
export { Authorizer, compileAuthorization, parseAuthorization } from './compile.js';
export {
  type AuthorizationDocument,
  AuthorizationDocumentSchema,
  type AuthorizationPolicy,
  AuthorizationPolicySchema,
  type AuthzOperation,
  AuthzOperationSchema,
  type AuthzSource,
  AuthzSourceSchema,
} from './policy-schema.js';
export type {
  AuthzDecision,
  AuthzExplanation,
  AuthzPeer,
  AuthzPolicyTrace,
  AuthzRequest,
} from './request.js';
export { parseAuthzRequest } from './request-schema.js';
