/**
 * The dashboard's front end (dashboard/src, Preact + TypeScript), bundled by esbuild for the
 * browser: one script and one stylesheet with content hashes in their names (served as
 * immutable), and index.html pointing at them. Nothing is loaded from a CDN: @weft/core's rule
 * schemas and lint, yaml and Preact are all inside the script.
 *
 * The package build writes the files to dist/dashboard (tsup.config.ts's onSuccess); in a clone
 * the control plane builds them in memory from the sources on the first request, so `npx weft
 * control-plane` never serves a stale dashboard (src/dashboard/assets.ts).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';

export const dashboardSources = join(import.meta.dirname, 'dashboard');
export const dashboardOutDir = join(import.meta.dirname, 'dist', 'dashboard');

/** The built files by path relative to the dashboard's root (`index.html`, `assets/main-<hash>.js`, …). */
export type DashboardFiles = Map<string, Uint8Array>;

/** Bundles the dashboard in memory. */
export async function buildDashboardFiles(): Promise<DashboardFiles> {
  const result = await build({
    entryPoints: { main: join(dashboardSources, 'src', 'main.tsx') },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: ['es2022', 'chrome111', 'firefox114', 'safari16'],
    // @weft/core from its TypeScript sources, as the rest of the build.
    conditions: ['@weft/source'],
    tsconfig: join(dashboardSources, 'tsconfig.json'),
    // Core's Node-only modules (the registry's snapshot file, ids) are not reached by what the
    // dashboard imports; tree-shaking drops them, and the check below proves it.
    external: ['node:*'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    define: { 'process.env.NODE_ENV': '"production"' },
    entryNames: '[name]-[hash]',
    outdir: join(dashboardSources, 'out', 'assets'),
    write: false,
    legalComments: 'eof',
    logLevel: 'warning',
  });
  const files: DashboardFiles = new Map();
  let script: string | undefined;
  let styles: string | undefined;
  for (const file of result.outputFiles) {
    const name = file.path.slice(file.path.lastIndexOf('/') + 1);
    if (name.endsWith('.js')) {
      script = name;
      if (/\bfrom\s*["']node:|import\(\s*["']node:/.test(file.text))
        throw new Error(`dashboard bundle: ${name} imports a Node.js module; a browser cannot load it`);
    } else if (name.endsWith('.css')) styles = name;
    files.set(`assets/${name}`, file.contents);
  }
  if (script === undefined || styles === undefined) throw new Error('dashboard bundle: no script or no stylesheet');
  const html = readFileSync(join(dashboardSources, 'index.html'), 'utf8')
    .replace('%SCRIPT%', script)
    .replace('%STYLES%', styles);
  files.set('index.html', new TextEncoder().encode(html));
  return files;
}

/** Bundles the dashboard into `outDir` (default dist/dashboard), replacing what was there. */
export async function buildDashboard(outDir = dashboardOutDir): Promise<DashboardFiles> {
  const files = await buildDashboardFiles();
  rmSync(outDir, { recursive: true, force: true });
  for (const [path, contents] of files) {
    mkdirSync(dirname(join(outDir, path)), { recursive: true });
    writeFileSync(join(outDir, path), contents);
  }
  return files;
}
