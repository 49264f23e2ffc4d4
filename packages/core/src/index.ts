/**
 * `@weft/core` — the service model, registry, discovery, load balancers, rules and resilience
 * policies of Weft, independent of any transport.
 *
 * @packageDocumentation
 */
export * from './clock/index.js';
export * from './errors/index.js';
export * from './model/index.js';
