import type { Plugin } from 'esbuild';
import { defineConfig } from 'tsup';

/**
 * Keeps `src/runtime-check.ts` out of the entry bundles, as `dist/runtime-check.js` (`.cjs`) that
 * each entry imports first. Bundled in, its check would run only after the entry's external
 * imports had been evaluated — undici's included, which on Node 20 throws while loading — so a
 * user would see undici's TypeError instead of Weft's coded error naming the Node.js needed.
 * The CommonJS build keeps the entries' source order, so the check's `require` comes first. An
 * ESM entry imports the shared chunk before anything else, so ESM files also get the import as a
 * banner, their first module request whatever a chunk holds (`runtime-check.js` then imports
 * itself, which ESM allows and ignores). scripts/check-tarballs.mjs loads the build on Node 20.
 */
const runtimeCheckFirst: Plugin = {
  name: 'runtime-check-first',
  setup(build) {
    const file = build.initialOptions.format === 'cjs' ? './runtime-check.cjs' : './runtime-check.js';
    build.onResolve({ filter: /\/runtime-check\.js$/ }, (args) =>
      args.kind === 'entry-point' ? undefined : { path: file, external: true },
    );
  },
};

export default defineConfig({
  entry: { index: 'src/index.ts', sidecar: 'src/sidecar/index.ts', 'runtime-check': 'src/runtime-check.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node22',
  tsconfig: 'tsconfig.build.json',
  esbuildPlugins: [runtimeCheckFirst],
  banner: ({ format }) => (format === 'esm' ? { js: 'import "./runtime-check.js";' } : undefined),
  // `import.meta.url` in the CommonJS build (telemetry/otel.ts resolves the optional peers from it).
  shims: true,
});
