import { defineConfig } from 'tsup';
import { bundleCli } from './bundle.config.js';

export default defineConfig({
  entry: { index: 'src/index.ts', cli: 'src/cli/main.ts' },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts' } },
  sourcemap: true,
  clean: true,
  target: 'node22',
  tsconfig: 'tsconfig.build.json',
  // After the package build (and after `clean`, which would delete it): the single-file bundle.
  onSuccess: () => bundleCli(),
});
