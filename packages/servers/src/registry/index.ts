export { type RegistryRoutesOptions, registryRoutes } from './routes.js';
export { createRegistryServer, type RegistryServer } from './server.js';
export type { RegistryServerOptions, RegistryStoreConfig, RegistryTtlConfig } from './server-options.js';
