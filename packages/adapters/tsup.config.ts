import { defineConfig } from 'tsup';

export default defineConfig({
  // One entry per subpath export, so importing one adapter never loads another's client library.
  entry: {
    'testkit/index': 'src/testkit/index.ts',
    'etcd/index': 'src/etcd/index.ts',
    'weave/index': 'src/weave/index.ts',
    'consul/index': 'src/consul/index.ts',
    'kubernetes/index': 'src/kubernetes/index.ts',
    'weft/index': 'src/weft/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node22',
  tsconfig: 'tsconfig.build.json',
  // Client libraries are peer dependencies, loaded only by the adapter that needs them.
  external: ['etcd3', 'consul', '@kubernetes/client-node', 'undici', '@weft/core', 'vitest'],
});
