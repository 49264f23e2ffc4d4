// The benchmark's one `reviews` instance (version=v1) on 127.0.0.1:<port>, as Discovery serves it.
// Plain JavaScript, shared by the sidecar program (bundled or not) and the TypeScript clients.
// The id is fixed: core's instanceId hashes with node:crypto, which a sidecar need not load.

/** @param {number} port */
export function reviewsInstance(port) {
  const value = `127.0.0.1:${port}`;
  return {
    id: 'reviews-bench-1',
    namespace: 'default',
    service: 'reviews',
    endpoint: { type: /** @type {const} */ ('http'), value, host: '127.0.0.1', port },
    tags: ['version=v1'],
    metadata: {},
    status: /** @type {const} */ ('UP'),
    ttl: 30,
    registeredAt: 0,
    lastHeartbeat: 0,
  };
}
