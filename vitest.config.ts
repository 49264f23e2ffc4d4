import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Tests run against the TypeScript sources, not dist, so no build step is needed first.
    conditions: ['@weft/source'],
  },
  ssr: { resolve: { conditions: ['@weft/source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/servers/dashboard/src/**/*.test.ts', 'test/**/*.test.ts'],
    // Builds or finds the real servers (etcd, Consul, kube-apiserver) the integration tests start.
    globalSetup: ['test/servers/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 120_000,
  },
});
