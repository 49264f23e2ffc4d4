export { DEFAULT_EUREKA_PREFIX, type EurekaRoutesOptions, type EurekaSettings, eurekaRoutes } from './eureka/index.js';
export {
  ExternalFileSource,
  type ExternalFileSourceOptions,
  MirroredInstanceError,
  MirroredRegistry,
  type MirroredRegistryOptions,
  MirrorMetadata,
  type MirrorSpec,
  type MirrorStatus,
  type RegistryMirrorOptions,
} from './mirrors/index.js';
export { type RegistryRoutesOptions, registryRoutes } from './routes.js';
export { createRegistryServer, type RegistryServer } from './server.js';
export type { RegistryServerOptions, RegistryStoreConfig, RegistryTtlConfig } from './server-options.js';
