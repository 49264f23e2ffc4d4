export {
  type Amalgam8Instance,
  Amalgam8InstanceSchema,
  type Amalgam8Registration,
  Amalgam8RegistrationSchema,
  fromAmalgam8Registration,
  toAmalgam8Instance,
} from './amalgam8.js';
export {
  type Endpoint,
  type EndpointInput,
  EndpointInputSchema,
  EndpointSchema,
  type EndpointType,
  EndpointTypeSchema,
  joinHostPort,
  splitHostPort,
} from './endpoint.js';
export { instanceId } from './id.js';
export {
  type InstanceStatus,
  InstanceStatusSchema,
  MetadataSchema,
  type Registration,
  type RegistrationInput,
  RegistrationSchema,
  type ServiceInstance,
  ServiceInstanceSchema,
  ServiceNameSchema,
  TagSchema,
  TagsSchema,
  TtlSchema,
} from './instance.js';
export { Limits, utf8Length } from './limits.js';
export { hasAllTags, labelsToTags, type ParsedTag, parseTag } from './tags.js';
