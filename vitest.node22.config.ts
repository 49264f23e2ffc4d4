import { configDefaults, defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * The second run, on Node 22 (the oldest supported line), covers what depends on the Node
 * version: every package's unit tests and the data plane on real sockets (proxy, sidecar, the
 * registry and controller servers). The system scenarios — examples, recipes, the HA failover,
 * the operator CLI, observability and the adapters against real etcd / Consul / kube-apiserver —
 * exercise the same library code again through external servers and run once, on Node 24: they
 * are two thirds of the suite's time, and CI must stay well inside its budget.
 */
export default mergeConfig(
  base,
  defineConfig({
    test: {
      exclude: [
        ...configDefaults.exclude,
        'test/examples/**',
        'test/recipes/**',
        'test/control-plane/**',
        'test/observability/**',
        'test/dashboard/**',
        'test/servers-ops/**',
        'test/servers-cli/**',
        'test/adapters/{etcd,consul,kubernetes,kubernetes-rules,weave}.test.ts',
      ],
    },
  }),
);
