/**
 * `@weft/core` — the service model, registry, discovery, load balancers, rules and resilience
 * policies of Weft, independent of any transport.
 *
 * @packageDocumentation
 * @module @weft/core
 */

export * from './authz/index.js';
export * from './balancers/index.js';
export * from './clock/index.js';
export * from './discovery/index.js';
export * from './errors/index.js';
export * from './identity/index.js';
export * from './model/index.js';
export * from './registry/index.js';
export * from './resilience/index.js';
export * from './rules/index.js';
