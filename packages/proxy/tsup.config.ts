import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', sidecar: 'src/sidecar/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  // `import.meta.url` in the CommonJS build (pino is loaded lazily through createRequire).
  shims: true,
  target: 'node22',
  tsconfig: 'tsconfig.build.json',
});
