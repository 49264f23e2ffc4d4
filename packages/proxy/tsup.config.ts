import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', sidecar: 'src/sidecar/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node22',
  tsconfig: 'tsconfig.build.json',
});
