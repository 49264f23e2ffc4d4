import type { ServiceInstance } from '@weft/core';

/** The benchmark's one `reviews` instance (version=v1) on 127.0.0.1:`port`. */
export function reviewsInstance(port: number): ServiceInstance;
