#!/usr/bin/env node
// Looks at the API docs (`npm run docs` → docs/api) in a real browser: Debian's chromium
// driven by playwright-core (which never downloads a browser of its own). Checks what a reader
// sees first — the index page and the @weft/core module page — and keeps a screenshot of each
// in .cache/api-docs/ (ignored by git) for a human look:
//   - modules are titled by package and subpath (`@weft/core`, `@weft/adapters/consul`), never
//     by folder (`core/src`);
//   - the project name is one heading, not the name and then the README's own title;
//   - headings render whole (no "Put a -using service" with its code span lost);
//   - the @example blocks show on the pages of the main entry points.
// Without a chromium (CHROMIUM or /usr/bin/chromium) it installs Debian's, as the test servers
// are provisioned (`bash .ci/provision-servers.sh chromium`, root or sudo-less apt); with
// WEFT_PROVISION=0, or when that fails, it says so and exits 0.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const root = join(import.meta.dirname, '..');
const site = join(root, 'docs', 'api');
const shots = join(root, '.cache', 'api-docs');
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';

if (!existsSync(executablePath) && process.env.CHROMIUM === undefined && process.env.WEFT_PROVISION !== '0')
  spawnSync('bash', [join(root, '.ci', 'provision-servers.sh'), 'chromium'], { stdio: 'inherit' });
if (!existsSync(executablePath)) {
  console.log(`skipped: no chromium at ${executablePath} (apt-get install chromium, or set CHROMIUM)`);
  process.exit(0);
}
if (!existsSync(join(site, 'index.html'))) {
  console.error('docs/api/index.html is missing: run `npm run docs` first');
  process.exit(1);
}

const failures = [];
const expect = (ok, what) => {
  if (!ok) failures.push(what);
};
const page = (path) => pathToFileURL(join(site, path)).href;

const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
try {
  const tab = await browser.newPage({ viewport: { width: 1280, height: 1000 } });

  await tab.goto(page('index.html'));
  const h1s = await tab.locator('h1').allInnerTexts();
  expect(h1s.filter((h) => h.trim() === 'Weft').length === 1, `index: one "Weft" heading, got ${JSON.stringify(h1s)}`);
  const headings = await tab.locator('.tsd-typography h2, .tsd-typography h3').allInnerTexts();
  expect(
    headings.some((h) => h.includes('Put a service that uses fetch on the mesh')),
    `index: the fetch heading renders whole; headings: ${JSON.stringify(headings)}`,
  );
  expect(!headings.some((h) => / -\w/.test(h)), `index: a heading lost a code span: ${JSON.stringify(headings)}`);
  mkdirSync(shots, { recursive: true });
  await tab.screenshot({ path: join(shots, 'index.png'), fullPage: false });

  // The module list, in modules.html and in the navigation (which a script builds).
  await tab.goto(page('modules.html'));
  const modules = (await tab.locator('.col-content a').allTextContents()).map((t) => t.trim());
  await tab.locator('.tsd-navigation a').nth(1).waitFor({ state: 'attached' });
  const navigation = (await tab.locator('.tsd-navigation a').allTextContents()).map((t) => t.trim());
  for (const name of ['@weft/core', '@weft/adapters/consul'])
    expect(navigation.includes(name), `the navigation lists ${name}; it has ${JSON.stringify(navigation)}`);
  for (const name of ['@weft/core', '@weft/proxy', '@weft/adapters/consul', '@weft/adapters/etcd'])
    expect(modules.includes(name), `navigation lists ${name}; it has ${JSON.stringify(modules)}`);
  expect(!modules.some((m) => m.includes('/src')), `navigation shows a folder name: ${JSON.stringify(modules)}`);
  await tab.screenshot({ path: join(shots, 'modules.png'), fullPage: false });

  await tab.goto(page('modules/_weft_core.html'));
  const title = ((await tab.locator('h1').first().textContent()) ?? '').trim();
  expect(title === 'Module @weft/core', `@weft/core page title is "${title}"`);
  expect((await tab.title()).startsWith('@weft/core'), `@weft/core page <title> is "${await tab.title()}"`);
  await tab.screenshot({ path: join(shots, 'core-module.png'), fullPage: false });

  for (const [path, code] of [
    ['classes/_weft_core.MemoryRegistry.html', 'registry.register('],
    ['classes/_weft_core.Discovery.html', 'new Discovery('],
    ['functions/_weft_core.createPicker.html', "createPicker('least_request'"],
    ['functions/_weft_core.compile.html', 'rules.evaluate('],
    ['classes/_weft_proxy.MeshAgent.html', 'setGlobalDispatcher(mesh)'],
    ['classes/_weft_proxy.Sidecar.html', 'sidecar.listen()'],
  ]) {
    await tab.goto(page(path));
    const examples = await tab.locator('pre code').allInnerTexts();
    expect(
      examples.some((e) => e.includes(code)),
      `${path}: an example with ${code}`,
    );
  }
  await tab.screenshot({ path: join(shots, 'sidecar.png'), fullPage: false });
} finally {
  await browser.close();
}

if (failures.length > 0) {
  console.error(failures.map((f) => `  ✗ ${f}`).join('\n'));
  process.exit(1);
}
console.log(`api docs look right in ${executablePath} (screenshots in .cache/api-docs/)`);
