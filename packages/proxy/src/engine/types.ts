/** Core types the engine builds on, imported in one place. */
export type { BalancerEndpoint, Discovery, EndpointSet, LbPolicy, Picker } from '@weft/core';
