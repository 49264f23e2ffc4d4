// biome-ignore-all lint/performance/useDomNodeTextContent: these are playwright locators, whose innerText() is the rendered text (cells separated, hidden text left out) that a reader sees.
/**
 * The dashboard end to end, in a real browser: Debian's chromium driven by playwright-core (which
 * never downloads a browser), against a real control plane with registered services and traffic
 * from real MeshAgents. Each step keeps a screenshot in test-artifacts/dashboard/ (ignored by git).
 *
 * Without a chromium (CHROMIUM or /usr/bin/chromium) it first tries to install Debian's, as
 * scripts/check-api-docs-browser.mjs does (`.ci/provision-servers.sh chromium`; not with
 * WEFT_PROVISION=0). Still without one it is skipped, saying so — except in CI (CI=true), where
 * that is a failure.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatPercent } from '../../packages/servers/dashboard/src/logic/format.js';
import { type ControlPlaneServer, createControlPlaneServer } from '../../packages/servers/src/control-plane.js';
import { call, type Mesh, startMesh } from './mesh.js';

const root = join(import.meta.dirname, '..', '..');
const shots = join(root, 'test-artifacts', 'dashboard');
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const inCi = process.env.CI === 'true';

if (!existsSync(executablePath) && process.env.CHROMIUM === undefined && process.env.WEFT_PROVISION !== '0')
  spawnSync('bash', [join(root, '.ci', 'provision-servers.sh'), 'chromium'], { stdio: 'inherit' });
const haveChromium = existsSync(executablePath);
if (!haveChromium && !inCi)
  console.warn(
    `test/dashboard: skipped — no chromium at ${executablePath} (apt-get install chromium, or set CHROMIUM)`,
  );

it.runIf(inCi && !haveChromium)('has a chromium in CI', () => {
  expect.fail(`no chromium at ${executablePath}: CI must run the dashboard's browser test`);
});

interface Topology {
  nodes: { service: string; versions: string[] }[];
  edges: { source: { service: string }; destination: { service: string; version?: string }; share: number }[];
}
const topologyNow = async (base: string): Promise<Topology> =>
  (await call(base, 'GET', '/v1/topology?window=60')).body as Topology;

/** Loads the page once over plain HTTP first, so a dashboard that cannot be built fails with the reason. */
async function expectDashboard(base: string): Promise<void> {
  const res = await fetch(`${base}/ui/`);
  expect(res.status, await res.text()).toBe(200);
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

describe.runIf(haveChromium)('the dashboard in chromium', () => {
  let server: ControlPlaneServer;
  let base: string;
  let mesh: Mesh;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    server = await createControlPlaneServer({});
    base = await server.listen({ host: '127.0.0.1', port: 0 });
    await expectDashboard(base);
    mesh = await startMesh(base);
    await mesh.traffic(12);
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('console', (message) => {
      // Answers the test asks for (the 412 of a stale edit, a 404 of an endpoint this server lacks)
      // are logged by the browser too; script errors are what must not happen.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
        consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(String(error)));
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await mesh?.close();
    await server?.close();
  });

  it('opens at the port’s root and lists the instances live, filtered by tag', async () => {
    await page.goto(`${base}/`);
    expect(page.url()).toBe(`${base}/ui/`);
    const rows = page.locator('tbody tr[data-instance]');
    await expect.poll(() => rows.count()).toBe(4);
    const reviews = page.locator('tbody tr', { hasText: 'reviews' });
    await expect.poll(() => reviews.count()).toBe(2);
    expect(await page.locator('tbody tr', { hasText: 'version=v2' }).innerText()).toMatch(
      /reviews\s+version=v2\s+UP\s+healthy\s+registry\s+http:\/\/127\.0\.0\.1:\d+\s+(just now|\d+ s ago)/,
    );

    await page.getByLabel('Tag').selectOption('version=v2');
    await expect.poll(() => rows.count()).toBe(1);
    await shot(page, '1-services-filtered');
    await page.getByLabel('Tag').selectOption('');

    // A registration shows up without a reload: the view follows the registry's event stream.
    await call(base, 'POST', '/api/v1/instances', {
      service_name: 'details',
      endpoint: { type: 'http', value: '127.0.0.1:9' },
      tags: ['version=v1'],
      ttl: 600,
    });
    await expect.poll(() => rows.count()).toBe(5);
    await expect.poll(() => page.locator('tbody tr', { hasText: 'details' }).count()).toBe(1);
    await shot(page, '1-services');
  });

  it('draws the call graph with versions and the traffic on each edge', async () => {
    await page.getByRole('link', { name: 'Topology' }).click();
    const node = (service: string) => page.locator(`svg g.node[data-service="${service}"]`);
    await node('reviews').waitFor();
    const topology = await topologyNow(base);
    // details is registered (the test above) but called by no one: an idle node, drawn without edges.
    expect(topology.nodes.map((n) => n.service).sort()).toEqual(['details', 'productpage', 'ratings', 'reviews']);
    for (const { service, versions } of topology.nodes)
      expect(await node(service).locator('g.version').allTextContents()).toEqual([...versions].sort());
    // productpage's calls to reviews, all of them over the edges that leave it.
    const toReviews = topology.edges.filter(
      (e) => e.source.service === 'productpage' && e.destination.service === 'reviews',
    );
    expect(toReviews.reduce((sum, e) => sum + e.share, 0)).toBeCloseTo(1, 5);
    await expect.poll(() => page.locator('svg g.edge').count()).toBe(topology.edges.length);
    expect(await page.locator('table tbody tr').count()).toBe(topology.edges.length);
    await shot(page, '2-topology');
  });

  it('checks a rule as it is typed, names the misspelt field, saves the fixed rule and shows the new revision', async () => {
    await page.getByRole('link', { name: 'Rules' }).click();
    await page.getByRole('button', { name: 'New rule' }).click();
    const editor = page.getByLabel('Rule (JSON)');
    const typo = {
      id: 'reviews-v2',
      destinaton: 'reviews',
      route: { backends: [{ tags: ['version=v2'] }] },
    };
    await editor.fill(JSON.stringify(typo, null, 2));
    const problems = page.locator('#rule-problems');
    await expect
      .poll(() => problems.locator('li[data-path="destination"]').innerText())
      .toMatch(/destination: is required/);
    expect(await problems.locator('li[data-path="destinaton"]').innerText()).toMatch(
      /line 3 .*Unrecognized key: "destinaton"/,
    );
    expect(await editor.getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByRole('button', { name: 'Create rule' }).isDisabled()).toBe(true);
    await shot(page, '3-rule-typo');

    // A lint remark as the controller would give: no instance carries version=v3.
    await editor.fill(
      JSON.stringify(
        { ...typo, destinaton: undefined, destination: 'reviews', route: { backends: [{ tags: ['version=v3'] }] } },
        null,
        2,
      ),
    );
    await expect
      .poll(() => problems.locator('li.issue-warning').innerText())
      .toMatch(/no instance of "reviews" carries version=v3/);

    const fixed = { id: 'reviews-v2', destination: 'reviews', route: { backends: [{ tags: ['version=v2'] }] } };
    await editor.fill(JSON.stringify(fixed, null, 2));
    await expect.poll(() => problems.innerText()).toMatch(/^Valid\.$/);
    await page.getByRole('button', { name: 'Create rule' }).click();
    await expect.poll(() => page.locator('.saved').innerText()).toMatch(/Saved reviews-v2 at revision 1\./);
    await page.locator('tr[data-rule="reviews-v2"]').waitFor();
    await expect.poll(() => page.locator('#rules-title + .live').innerText()).toMatch(/revision 1/);

    // The revision history shows it, where the control plane serves one.
    const history = await call(base, 'GET', '/v1/rules/history?limit=20');
    if (history.status === 404) {
      await page.getByRole('region', { name: 'Revision history not available' }).waitFor();
    } else {
      expect(history.status).toBe(200);
      await page.locator('.history li[data-revision="1"]').waitFor();
    }
    await shot(page, '3-rule-saved');

    // The stored rule as the controller has it.
    const stored = (await call(base, 'GET', '/v1/rules')).body as { rules: unknown[]; revision: number };
    expect(stored).toEqual({ rules: [fixed], revision: 1 });
  });

  it('refuses an edit the controller refuses, placing its error at the field', async () => {
    await page.getByRole('button', { name: 'Edit rule reviews-v2' }).click();
    const editor = page.getByLabel('Rule (JSON)');
    // Valid for the schema; the controller refuses it for the revision, which moved on meanwhile.
    await call(base, 'POST', '/v1/rules', {
      rules: [{ id: 'ratings-v1', destination: 'ratings', route: { backends: [{ tags: ['version=v1'] }] } }],
    });
    await editor.fill(
      JSON.stringify({ destination: 'reviews', priority: 2, route: { backends: [{ tags: ['version=v2'] }] } }, null, 2),
    );
    await page.getByRole('button', { name: 'Save rule' }).click();
    await expect.poll(() => page.locator('.refusal').innerText()).toMatch(/rules changed since this rule was opened/);
    await page.getByRole('button', { name: 'Cancel' }).click();
  });

  it('explains which rule and backend a request would get', async () => {
    await page.getByLabel('Destination service').fill('reviews');
    await page.getByLabel('Headers').fill('Cookie: user=jason');
    await page.getByRole('button', { name: 'Explain' }).click();
    await expect.poll(() => page.locator('.matched-rule').innerText()).toBe('reviews-v2');
    expect(await page.locator('.chosen-backend').innerText()).toBe('version=v2');
    expect(await page.locator('.explain-text').innerText()).toMatch(/route "reviews-v2" rules\[0\]/);

    // A field the form needs is named next to it.
    await page.getByLabel('Destination service').fill('');
    await page.getByRole('button', { name: 'Explain' }).click();
    expect(await page.locator('#explain-destination-note').innerText()).toMatch(/is required/);
    await shot(page, '4-explain');
  });

  it('shows the traffic shift the new rule made', async () => {
    const { versions } = await mesh.traffic(12);
    // Every call now goes to v2: the rule reached the proxies.
    expect(new Set(versions)).toEqual(new Set(['v2']));
    await page.getByRole('link', { name: 'Topology' }).click();
    const v2 = (await topologyNow(base)).edges.find(
      (e) =>
        e.source.service === 'productpage' &&
        e.destination.service === 'reviews' &&
        e.destination.version === 'version=v2',
    );
    expect(v2?.share).toBeGreaterThan(0);
    const row = page.locator('table tbody tr', { hasText: 'reviews version=v2' }).filter({ hasText: 'productpage' });
    await expect.poll(() => row.locator('td').last().innerText()).toBe(formatPercent(v2?.share ?? 0));
    await expect
      .poll(() => page.locator('svg g.edge[data-edge="productpage@version=v1->reviews@version=v2"]').count())
      .toBe(1);
    await shot(page, '5-topology-after-shift');
  });

  it('lists recipe runs and their verdicts as they arrive, reached with the keyboard', async () => {
    // From the Rules link, Tab reaches the Recipes link, which shows its focus: a solid outline.
    await page.getByRole('link', { name: 'Rules' }).focus();
    await page.keyboard.press('Tab');
    // (Expressions evaluated in the page: this file is type-checked without the DOM's types.)
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Recipes');
    expect(await page.evaluate('getComputedStyle(document.activeElement).outlineStyle')).toBe('solid');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Recipes' }).waitFor();
    const runs = page.locator('li[data-run]');
    const posted = await call(base, 'POST', '/v1/recipes/runs', {
      runId: 'recipe-0123456789ab',
      passed: false,
      startedAt: new Date().toISOString(),
      durationMs: 5990,
      checks: [
        {
          name: 'http_status',
          subject: 'productpage → reviews',
          passed: false,
          records: 4,
          message: '4 of 4 answered 503',
        },
        {
          name: 'bounded_response_time',
          subject: 'gateway → productpage',
          passed: true,
          records: 4,
          message: 'all within 4s',
        },
      ],
    });
    expect(posted.status).toBe(201);
    await expect.poll(() => runs.count()).toBe(1);
    expect(await runs.first().locator('summary').innerText()).toMatch(
      /FAIL\s+recipe-0123456789ab · 1 of 2 checks passed/,
    );
    await runs.first().locator('summary').press('Enter');
    expect(await runs.first().locator('tbody tr').first().innerText()).toMatch(
      /http_status\s+productpage → reviews\s+FAIL/,
    );
    await shot(page, '6-recipes');
    expect(consoleErrors).toEqual([]);
  });

  it('lists the authorization policies live and explains an allowed and a denied call', async () => {
    await page.getByRole('link', { name: 'Authorization' }).click();
    const summary = page.locator('.authz-summary');
    // No policy yet: said so, with what it means (core's default action: allow).
    await expect.poll(() => summary.innerText()).toMatch(/No policy: every call is allowed/);
    expect(await page.locator('tr[data-policy]').count()).toBe(0);

    const policies = [
      {
        id: 'reviews-from-productpage',
        destination: 'reviews',
        action: 'allow',
        from: [{ services: ['productpage'] }, { ipBlocks: ['10.0.0.0/8'] }],
        to: [{ methods: ['GET'], paths: [{ prefix: '/reviews/' }] }],
      },
      { id: 'no-deletes', destination: '*', action: 'deny', to: [{ methods: ['DELETE'] }] },
    ];
    const put = await call(base, 'PUT', '/v1/authorization', { policies });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    // The view follows the controller's stream: the policies arrive without a reload, denies first.
    await expect.poll(() => page.locator('tr[data-policy]').count()).toBe(2);
    const order = await Promise.all(
      (await page.locator('tr[data-policy]').all()).map((row) => row.getAttribute('data-policy')),
    );
    expect(order).toEqual(['no-deletes', 'reviews-from-productpage']);
    expect(await page.locator('tr[data-policy="reviews-from-productpage"]').innerText()).toMatch(
      /reviews-from-productpage\s+allow\s+reviews\s+service productpage\s+or IP in 10\.0\.0\.0\/8\s+GET \/reviews\/\*/,
    );
    expect(await page.locator('tr[data-policy="no-deletes"]').innerText()).toMatch(
      /no-deletes\s+deny\s+\* \(every service\)\s+any caller\s+DELETE/,
    );
    expect(await summary.innerText()).toMatch(/reviews accepts only the calls an allow policy allows/);

    const explain = async (identity: string, method: string): Promise<void> => {
      await page.getByLabel('Destination service').fill('reviews');
      await page.getByLabel('Source identity').fill(identity);
      await page.getByLabel('Method').fill(method);
      await page.getByLabel('Path').fill('/reviews/1');
      await page.getByRole('button', { name: 'Explain call' }).click();
    };
    const verdict = page.locator('.authz-verdict');
    await explain('spiffe://weft.local/ns/default/svc/productpage', 'GET');
    // Judged at the revision the policies were written at (one revision for rules and policies).
    const { revision } = put.body as { revision: number };
    await expect
      .poll(() => verdict.innerText())
      .toBe(`allowed by policy reviews-from-productpage (revision ${revision})`);
    expect(await page.locator('.deciding-policy').innerText()).toBe('reviews-from-productpage');
    await shot(page, '8-authorization-allowed');

    await explain('spiffe://weft.local/ns/default/svc/ratings', 'GET');
    await expect
      .poll(() => verdict.innerText())
      .toMatch(
        /^denied: no allow policy for reviews matched; "reviews-from-productpage": caller spiffe:\/\/weft\.local\/ns\/default\/svc\/ratings is not one of services productpage/,
      );
    // The same call from productpage, as a DELETE: the deny policy decides.
    await explain('spiffe://weft.local/ns/default/svc/productpage', 'DELETE');
    await expect.poll(() => verdict.innerText()).toMatch(/^denied by policy no-deletes /);
    expect(await page.locator('.authz-trace li[data-policy="no-deletes"]').innerText()).toMatch(/matched/);
    await shot(page, '8-authorization-denied');

    // An identity the controller cannot read is refused, its problem shown at the field.
    await explain('spiffe://Weft Local/ns/default/svc/productpage', 'GET');
    await expect.poll(() => page.locator('#authz-identity-note').innerText()).toMatch(/^peer\.identity/);
    expect(await page.getByLabel('Source identity').getAttribute('aria-invalid')).toBe('true');
    expect(consoleErrors).toEqual([]);
  });

  it('edits the policies as one document, placing the controller’s refusal at each field', async () => {
    await page.getByRole('button', { name: 'Edit policies' }).click();
    const editor = page.getByLabel('Policies (JSON)');
    // It opens on the namespace's policies.
    expect(JSON.parse(await editor.inputValue())).toMatchObject({ defaultAction: 'allow', policies: [{}, {}] });
    const ratings = {
      id: 'ratings-internal',
      destination: 'ratings',
      action: 'allow',
      from: [{ ipBlocks: ['10.0.0.0/8'] }],
    };
    const bad = {
      defaultAction: 'allow',
      policies: [{ ...ratings, from: [{ ipBlocks: ['10.0.0.0/33'] }], actoin: 'x' }],
    };
    await editor.fill(JSON.stringify(bad, null, 2));
    await page.getByRole('button', { name: 'Save policies' }).click();
    const refusal = page.locator('.refusal');
    await expect.poll(() => refusal.innerText()).toMatch(/The controller refused them: WEFT_ERR_INVALID_ARGUMENT/);
    // Each field the controller names, at its line of the text.
    expect(await refusal.locator('li[data-path="policies[0].from[0].ipBlocks[0]"]').innerText()).toMatch(
      /^line 11 .*must end in a prefix length/,
    );
    expect(await refusal.locator('li[data-path="policies[0].actoin"]').innerText()).toMatch(
      /^line 15 .*Unrecognized key: "actoin"/,
    );
    expect(await editor.getAttribute('aria-invalid')).toBe('true');
    await shot(page, '9-authorization-refused');
    // Nothing changed.
    expect(((await call(base, 'GET', '/v1/authorization')).body as { policies: unknown[] }).policies).toHaveLength(2);

    await editor.fill(JSON.stringify({ defaultAction: 'allow', policies: [ratings] }, null, 2));
    await page.getByRole('button', { name: 'Save policies' }).click();
    await expect.poll(() => page.locator('.saved').innerText()).toMatch(/^Saved the policies at revision \d+\.$/);
    await expect.poll(() => page.locator('tr[data-policy]').count()).toBe(1);
    expect(await page.locator('tr[data-policy="ratings-internal"]').innerText()).toMatch(/IP in 10\.0\.0\.0\/8/);
    const stored = (await call(base, 'GET', '/v1/authorization')).body as { policies: unknown[] };
    expect(stored.policies).toEqual([ratings]);
    expect(consoleErrors).toEqual([]);
  });

  it('has no WCAG 2.1 A or AA violations that axe-core finds, in any view', async () => {
    // axe-core (Deque's accessibility engine) checks contrast, names, labels, roles and landmarks
    // in the rendered page: what a manual review would look for first, on every view.
    // Its own page, whose context lets the test inject axe past the dashboard's CSP (script-src 'self').
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, bypassCSP: true });
    const page = await context.newPage();
    await page.goto(`${base}/ui/`);
    await page.addScriptTag({ path: createRequire(import.meta.url).resolve('axe-core/axe.min.js') });
    for (const view of ['Services', 'Topology', 'Rules', 'Recipes', 'Authorization']) {
      await page.getByRole('link', { name: view }).click();
      await page.getByRole('heading', { name: view }).first().waitFor();
      // (Evaluated in the page, as a string: this file is type-checked without the DOM's types.)
      const violations = (await page.evaluate(`axe
        .run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
        .then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')) })))`)) as unknown[];
      expect(violations, `${view}: ${JSON.stringify(violations, null, 1)}`).toEqual([]);
    }
    // The Authorization view again, with an explain verdict, and the policy editor showing a refusal.
    await page.getByLabel('Destination service').fill('reviews');
    await page.getByRole('button', { name: 'Explain call' }).click();
    await page.locator('.authz-verdict').waitFor();
    await page.getByRole('button', { name: 'Edit policies' }).click();
    await page.getByLabel('Policies (JSON)').fill('{"policies": [{"id": "x", "destination": "*", "action": "maybe"}]}');
    await page.getByRole('button', { name: 'Save policies' }).click();
    await page.locator('.refusal').waitFor();
    const withVerdict = (await page.evaluate(`axe
      .run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
      .then((r) => r.violations.map((v) => ({ id: v.id, nodes: v.nodes.map((n) => n.target.join(' ')) })))`)) as unknown[];
    expect(withVerdict, JSON.stringify(withVerdict, null, 1)).toEqual([]);
    // The control: the same run does find a planted problem (an input without a label).
    const planted = (await page.evaluate(`(() => {
      document.querySelector('main').append(document.createElement('input'));
      return axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a'] } }).then((r) => r.violations.map((v) => v.id));
    })()`)) as string[];
    expect(planted).toContain('label');
    await context.close();
  }, 60_000);
});

describe.runIf(haveChromium)('the dashboard of a control plane with auth', () => {
  it('asks for the token, keeps it for the tab, and shows that namespace', async () => {
    mkdirSync(shots, { recursive: true });
    // `trusted`: the bearer token is the namespace.
    const server = await createControlPlaneServer({ auth: [{ type: 'trusted' }] });
    const base = await server.listen({ host: '127.0.0.1', port: 0 });
    await expectDashboard(base);
    const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
    try {
      await call(
        base,
        'POST',
        '/api/v1/instances',
        { service_name: 'billing', endpoint: { type: 'http', value: '127.0.0.1:9' }, ttl: 600 },
        { authorization: 'Bearer team-a' },
      );
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(`${base}/ui/`);
      const dialog = page.getByRole('dialog', { name: 'Credentials' });
      await dialog.waitFor();
      expect(await dialog.getByRole('alert').innerText()).toMatch(/answered 401/);
      await shot(page, '7-token');
      await page.getByLabel('API token').fill('team-a');
      await page.getByRole('button', { name: 'Use these' }).click();
      await page.locator('tr[data-instance]', { hasText: 'billing' }).waitFor();
      expect(await page.evaluate(() => sessionStorage.getItem('weft.dashboard.token'))).toBe('team-a');
      expect(await page.evaluate(() => localStorage.length)).toBe(0);
    } finally {
      await browser.close();
      await server.close();
    }
  }, 60_000);
});
