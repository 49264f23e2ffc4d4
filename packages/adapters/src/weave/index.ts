/**
 * `@weft/adapters/weave` — a read-only discovery source over Weave Flux (flux-classic, 2016),
 * which kept its services and instances in etcd's v2 keys API. No client library: plain HTTP with
 * the global `fetch`.
 *
 * @packageDocumentation
 * @module @weft/adapters/weave
 */

export { FluxReader, type FluxState } from './layout.js';
export { WeaveSource, type WeaveSourceOptions } from './source.js';
export { V2Client, type V2ClientOptions, V2Error, type V2Event, type V2Node, type WaitResult } from './v2-client.js';
