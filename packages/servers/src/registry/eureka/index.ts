export { DEFAULT_EUREKA_PREFIX, type EurekaSettings } from './mount.js';
export { type EurekaRoutesOptions, eurekaRoutes } from './plugin.js';
