export type { ExplainInput, ExplainOutput } from './explain.js';
export type { ErrorBody } from './http-errors.js';
export { openRulesStore } from './open-store.js';
export { type ControllerRoutesOptions, controllerRoutes } from './routes.js';
export { type ControllerServer, createControllerServer } from './server.js';
export type { ControllerServerOptions, ControllerStoreConfig } from './server-options.js';
export type { RulesView, ServicesView } from './views.js';
export type { InstancesOf, RuleWarning } from './warnings.js';
