/**
 * The single-file bundle of the `weft` command, `dist/weft.bundle.mjs`: every dependency inlined
 * (tree-shaken, one module to load), so a container runs it with plain `node weft.bundle.mjs
 * sidecar …` — no node_modules, no install step — and starts faster than the installed dist,
 * which resolves and loads hundreds of files. The build (tsup.config.ts's onSuccess) makes it.
 */
import { join } from 'node:path';
import { build } from 'esbuild';

export const bundlePath = join(import.meta.dirname, 'dist', 'weft.bundle.mjs');

// CommonJS dependencies (pino, yaml's CJS paths) call `require` for Node built-ins, which an ESM
// module does not have. The alias keeps the banner's binding from clashing with a bundled module's
// own `import { createRequire } from 'node:module'` (proxy's telemetry has one).
const requireShim =
  "import { createRequire as __weftCreateRequire } from 'node:module'; const require = __weftCreateRequire(import.meta.url);";

// bin/weft.mjs's version gate, first thing in the file: in one module, proxy's runtime-check runs
// only after undici has been evaluated (and esbuild drops it: its package marks only the dist
// copy as having side effects), so an old Node would fail with undici's error, not ours.
const nodeGate = [
  "const [__weftMajor = 0, __weftMinor = 0] = process.versions.node.split('.').map(Number);",
  'if (__weftMajor < 22 || (__weftMajor === 22 && __weftMinor < 19)) {',
  "  process.stderr.write('weft: needs Node.js 22.19 or later (this is ' + process.version + ')\\n');",
  '  process.exit(1);',
  '}',
].join('\n');

/** Bundles src/cli/main.ts from the sources of every Weft package (no sibling dist needed). */
export async function bundleCli(outfile = bundlePath): Promise<void> {
  await build({
    entryPoints: [join(import.meta.dirname, 'src', 'cli', 'main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    // The workspace packages' exports send this condition to their TypeScript sources.
    conditions: ['@weft/source'],
    tsconfig: join(import.meta.dirname, 'tsconfig.build.json'),
    outfile,
    banner: { js: `#!/usr/bin/env node\n${requireShim}\n${nodeGate}` },
    // The runtime-check import it drops is replaced by nodeGate above.
    logOverride: { 'ignored-bare-import': 'silent' },
    // The Kubernetes client is 16 MB of generated models: inlined, it would be two thirds of the
    // file, and every start would read and pre-parse it (ready 347 ms instead of ~200, idle RSS
    // +70 MB) for the few deployments that talk to the API server. It stays a runtime import:
    // those install it next to the bundle (`npm install @kubernetes/client-node`), and without
    // it they get @weft/adapters' coded missing-peer error that says so.
    // The OpenTelemetry SDK and exporter load only with tracing.otlpEndpoint (optional peers,
    // installed next to the bundle by those who trace), as @weft/proxy's @opentelemetry/api does.
    external: ['@kubernetes/client-node', '@opentelemetry/*'],
    legalComments: 'none',
    logLevel: 'warning',
  });
}
