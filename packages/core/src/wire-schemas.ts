import type * as z from 'zod/mini';
import { AuthorizationDocumentSchema } from './authz/index.js';
import {
  Amalgam8InstanceSchema,
  Amalgam8RegistrationSchema,
  EndpointInputSchema,
  EndpointSchema,
  RegistrationSchema,
  ServiceInstanceSchema,
} from './model/index.js';
import { RuleSchema, RulesDocumentSchema } from './rules/index.js';

/**
 * Every wire type Weft defines, by the name of its JSON Schema file. `npm run schemas` writes
 * `packages/core/schemas/<name>.schema.json` from these; CI fails when the files are stale.
 */
export const wireSchemas: Readonly<Record<string, z.core.$ZodType>> = Object.freeze({
  Registration: RegistrationSchema,
  ServiceInstance: ServiceInstanceSchema,
  Endpoint: EndpointSchema,
  EndpointInput: EndpointInputSchema,
  Amalgam8Registration: Amalgam8RegistrationSchema,
  Amalgam8Instance: Amalgam8InstanceSchema,
  Rule: RuleSchema,
  RulesDocument: RulesDocumentSchema,
  AuthorizationDocument: AuthorizationDocumentSchema,
});
