// Runs inside the consumer project made by scripts/check-tarballs.mjs, on each Node.js it
// checks: loads every entry point of the packages listed in checked.json as ESM and as CommonJS,
// then the checks particular to a package. With --unsupported-node (an older Node.js than the
// packages support), each entry must load or refuse with WEFT_ERR_UNSUPPORTED_RUNTIME — never
// fail some other way.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { packages } = JSON.parse(readFileSync(new URL('./checked.json', import.meta.url), 'utf8'));
const unsupported = process.argv.includes('--unsupported-node');
const failures = [];
const fail = (what, detail) => failures.push(`${what}: ${detail}`);
const names = (mod) =>
  Object.keys(mod)
    .filter((k) => k !== 'default' && k !== '__esModule' && k !== 'module.exports')
    .sort()
    .join(',');

for (const { name, subpaths } of packages) {
  for (const subpath of subpaths) {
    const spec = subpath === '.' ? name : `${name}/${subpath.slice(2)}`;
    if (unsupported) {
      for (const [how, load] of [
        ['import', () => import(spec)],
        ['require', async () => require(spec)],
      ]) {
        try {
          await load();
        } catch (err) {
          if (err?.code !== 'WEFT_ERR_UNSUPPORTED_RUNTIME') fail(`${how} ${spec}`, String(err?.stack ?? err));
          else if (!/22\.19/.test(err.message))
            fail(`${how} ${spec}`, `message does not name Node.js 22.19: ${err.message}`);
        }
      }
      continue;
    }
    try {
      const esm = await import(spec);
      const cjs = require(spec);
      if (names(esm) === '' || names(esm) !== names(cjs))
        fail(spec, `ESM exports [${names(esm)}] differ from CJS [${names(cjs)}]`);
    } catch (err) {
      fail(spec, String(err?.stack ?? err));
    }
  }
}

/**
 * Starts `weft control-plane` (the installed bin) on a free port, reads the dashboard's address
 * from its start-up lines, and fetches the page and every asset it names.
 */
async function checkDashboard(bin) {
  const child = spawn(process.execPath, [bin, 'control-plane', '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  try {
    const url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "dashboard on" line within 20 s: ${stderr}`)), 20_000);
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
        const m = /dashboard on (http:\/\/\S+)/.exec(stderr);
        if (m !== null) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.on('exit', (code) => reject(new Error(`weft control-plane exited (${code}): ${stderr}`)));
    });
    const page = await fetch(url);
    const html = await page.text();
    const assets = [...html.matchAll(/\.\/(assets\/[^"]+)"/g)].map((m) => m[1]);
    if (page.status !== 200 || assets.length < 2)
      fail(
        '@weft/servers',
        `dashboard ${url}: ${page.status}, assets ${JSON.stringify(assets)}: ${html.slice(0, 300)}`,
      );
    for (const asset of assets) {
      const res = await fetch(new URL(asset, url));
      const body = await res.arrayBuffer();
      if (res.status !== 200 || body.byteLength === 0 || !/immutable/.test(res.headers.get('cache-control') ?? ''))
        fail(
          '@weft/servers',
          `dashboard asset ${asset}: ${res.status}, ${body.byteLength} bytes, ${res.headers.get('cache-control')}`,
        );
    }
  } catch (err) {
    fail('@weft/servers', `weft control-plane's dashboard: ${err?.message ?? err}`);
  } finally {
    child.kill('SIGTERM');
  }
}

/** Checks of one package's promises, run when it is among the checked packages. */
const particular = {
  async '@weft/core'() {
    const esm = await import('@weft/core');
    const cjs = require('@weft/core');
    if (esm.WeftError === cjs.WeftError) fail('@weft/core', 'ESM and CJS builds share one class: not two copies');
    // The dual-package hazard: each build must recognise the other's errors.
    const checks = {
      'ESM isWeftError(CJS error)': esm.isWeftError(new cjs.ClosedError('x'), 'WEFT_ERR_CLOSED'),
      'CJS isWeftError(ESM error)': cjs.isWeftError(new esm.ClosedError('x'), 'WEFT_ERR_CLOSED'),
      'CJS TimeoutError instanceof ESM TimeoutError': new cjs.TimeoutError(1, 2) instanceof esm.TimeoutError,
      'ESM isTimeoutError(CJS error)': esm.isTimeoutError(new cjs.TimeoutError(1, 2)),
      'CJS ClosedError not instanceof ESM TimeoutError': !(new cjs.ClosedError('x') instanceof esm.TimeoutError),
    };
    for (const [what, ok] of Object.entries(checks)) if (!ok) fail('@weft/core', what);
    const schema = require('@weft/core/schemas/Rule.schema.json');
    if (typeof schema.$schema !== 'string') fail('@weft/core', 'schemas/Rule.schema.json is not a JSON Schema');
  },
  async '@weft/proxy'() {
    // Installed without its optional peers: importing works (above), tracing asked for fails clearly.
    for (const peer of ['@opentelemetry/api', 'prom-client']) {
      try {
        require.resolve(peer);
        fail('@weft/proxy', `optional peer ${peer} is installed, so its absence is not checked`);
      } catch {}
    }
    const { Discovery, ManualSource, isWeftError } = await import('@weft/core');
    const esm = await import('@weft/proxy');
    const cjs = require('@weft/proxy');
    const discovery = new Discovery({ sources: [new ManualSource('static', [])] });
    await new esm.MeshAgent({ discovery }).close();
    try {
      new esm.MeshAgent({ discovery, tracer: { startSpan: () => undefined } });
      fail('@weft/proxy', 'a tracer without @opentelemetry/api was accepted');
    } catch (err) {
      if (!isWeftError(err, 'WEFT_ERR_MISSING_PEER_DEPENDENCY') || !err.message.includes('@opentelemetry/api'))
        fail('@weft/proxy', `a tracer without @opentelemetry/api: ${err?.stack ?? err}`);
    }
    discovery.close();
    if (!esm.isMeshRequestError(new cjs.MeshRequestError('WEFT_ERR_TIMEOUT', 'x')))
      fail('@weft/proxy', 'ESM isMeshRequestError(CJS error) is false');
  },
  async '@weft/adapters'() {
    // Installed without its optional peers: a source that cannot start makes ready() say so.
    const { Discovery, isWeftError } = await import('@weft/core');
    const { EtcdSource } = await import('@weft/adapters/etcd');
    const discovery = new Discovery({ sources: [new EtcdSource({ hosts: 'http://127.0.0.1:9' })] });
    try {
      await discovery.ready(5_000);
      fail('@weft/adapters', 'discovery.ready() resolved although etcd3 is not installed');
    } catch (err) {
      const cause = err?.failures?.[0]?.error;
      if (
        !isWeftError(err, 'WEFT_ERR_SOURCE_FAILED') ||
        !isWeftError(cause, 'WEFT_ERR_MISSING_PEER_DEPENDENCY') ||
        !err.message.includes('etcd3')
      )
        fail('@weft/adapters', `ready() without etcd3: ${err?.stack ?? err}`);
    } finally {
      discovery.close();
    }
  },
  async '@weft/servers'() {
    // The `weft` command from the tarball: the bin (dist/cli.js) and the single-file bundle.
    const bin = new URL('./node_modules/.bin/weft', import.meta.url).pathname;
    const bundle = require.resolve('@weft/servers/package.json').replace(/package\.json$/, 'dist/weft.bundle.mjs');
    for (const [what, args] of [
      ['npx weft --version', [bin, '--version']],
      ['node dist/weft.bundle.mjs --version', [bundle, '--version']],
    ]) {
      const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
      if (r.status !== 0 || !/^weft \d/.test(r.stdout))
        fail('@weft/servers', `${what}: exit ${r.status}: ${r.stdout}${r.stderr}`);
    }
    // The dashboard ships built in the tarball: `weft control-plane` from it serves the page and its assets.
    await checkDashboard(bin);
  },
};
if (!unsupported)
  for (const { name } of packages)
    try {
      await particular[name]?.();
    } catch (err) {
      fail(name, String(err?.stack ?? err));
    }

const entries = packages.reduce((n, p) => n + p.subpaths.length, 0);
if (failures.length > 0) {
  console.error(failures.map((f) => `  ✗ ${f}`).join('\n'));
  process.exit(1);
}
console.log(
  `  Node ${process.versions.node}: ${entries} entry points ${unsupported ? 'load or refuse with WEFT_ERR_UNSUPPORTED_RUNTIME' : 'load as ESM and CJS'}`,
);
