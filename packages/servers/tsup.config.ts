import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';
import { bundleCli } from './bundle.config.js';
import { buildDashboard } from './dashboard.config.js';

/**
 * The library entries, one per subpath export read from package.json's exports map (`.` →
 * `src/index.ts` built as `dist/index.*`), so a new subpath needs only its exports entry.
 */
const manifest = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as {
  exports: Record<string, string | { '@weft/source'?: string }>;
};
const libraries: Record<string, string> = Object.fromEntries(
  Object.values(manifest.exports).flatMap((target) => {
    const source = typeof target === 'object' ? target['@weft/source'] : undefined;
    const name = source?.match(/^\.\/src\/(.+)\.ts$/)?.[1];
    return source === undefined || name === undefined ? [] : [[name, source] as const];
  }),
);

export default defineConfig({
  // dist/cli.js is what bin/weft.mjs runs in an installed copy; it has no types of its own.
  entry: { ...libraries, cli: 'src/cli/main.ts' },
  format: ['esm', 'cjs'],
  dts: { entry: libraries },
  sourcemap: true,
  clean: true,
  target: 'node22',
  tsconfig: 'tsconfig.build.json',
  // `import.meta.url` in the CommonJS build (src/dashboard/assets.ts finds dist/dashboard from it).
  shims: true,
  // After the package build (and after `clean`, which would delete them): the single-file bundle
  // and the dashboard's front end (dist/dashboard).
  onSuccess: async () => {
    await bundleCli();
    await buildDashboard();
  },
});
