import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

/**
 * One entry per subpath export, read from package.json's exports map (`./etcd` →
 * `src/etcd/index.ts` built as `dist/etcd/index.*`), so importing one adapter never loads
 * another's client library, and a new subpath needs only its exports entry.
 */
const manifest = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as {
  exports: Record<string, string | { '@weft/source'?: string }>;
};
const entry = Object.fromEntries(
  Object.values(manifest.exports).flatMap((target) => {
    const source = typeof target === 'object' ? target['@weft/source'] : undefined;
    const name = source?.match(/^\.\/src\/(.+)\.ts$/)?.[1];
    return source === undefined || name === undefined ? [] : [[name, source] as const];
  }),
);

export default defineConfig({
  entry,
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node22',
  tsconfig: 'tsconfig.build.json',
  // Client libraries are peer dependencies, loaded only by the adapter that needs them.
  external: ['etcd3', 'consul', '@kubernetes/client-node', 'undici', '@weft/core', 'vitest'],
});
