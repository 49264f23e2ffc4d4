import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The dashboard's built files by path under its root: `index.html`, `assets/main-<hash>.js`, … */
export type DashboardFiles = ReadonlyMap<string, Uint8Array>;

/** Where the dashboard's files come from. */
export type DashboardSource =
  /** A directory holding `index.html` and `assets/` (the package's dist/dashboard). */
  | { readonly kind: 'directory'; readonly path: string }
  /** A clone of the repository: bundled from dashboard/src when first asked for. */
  | { readonly kind: 'sources'; readonly config: string }
  /** Neither: the package was never built. */
  | { readonly kind: 'missing'; readonly looked: readonly string[] };

/**
 * Finds the dashboard next to this module: in an installed package (dist/index.js, its chunks,
 * dist/cli.js and the single-file bundle all live in dist/) it is dist/dashboard; in a clone
 * (this file is src/dashboard/assets.ts) it is built from the sources, so it is never stale.
 */
export function locateDashboard(here = dirname(fileURLToPath(import.meta.url))): DashboardSource {
  const config = join(here, '..', '..', 'dashboard.config.ts');
  if (here.endsWith(join('src', 'dashboard')) && existsSync(config)) return { kind: 'sources', config };
  const built = join(here, 'dashboard');
  if (existsSync(join(built, 'index.html'))) return { kind: 'directory', path: built };
  return { kind: 'missing', looked: [built] };
}

/** Reads every file under `root`. */
export function readDashboardDirectory(root: string): DashboardFiles {
  const files = new Map<string, Uint8Array>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.set(relative(root, path).split(sep).join('/'), readFileSync(path));
    }
  };
  walk(root);
  if (!files.has('index.html')) throw new Error(`${root} holds no index.html: not a built dashboard`);
  return files;
}

/** Loads the files of a source (bundling the sources of a clone with esbuild, a devDependency there). */
export async function loadDashboard(source: DashboardSource): Promise<DashboardFiles | undefined> {
  switch (source.kind) {
    case 'directory':
      return readDashboardDirectory(source.path);
    case 'sources': {
      // A computed specifier: bundlers leave it alone, and it is only reached in a clone, where
      // tsx (or vitest) loads TypeScript.
      const config = (await import(pathToFileURL(source.config).href)) as {
        buildDashboardFiles(): Promise<DashboardFiles>;
      };
      return config.buildDashboardFiles();
    }
    case 'missing':
      return undefined;
  }
}
