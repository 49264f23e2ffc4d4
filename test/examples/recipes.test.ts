/**
 * The recipe Amalgam8's bookinfo was for: a 7 s delay from reviews to ratings, for the test's
 * requests only, exposes the conflicting timeouts — productpage gives up on reviews after 3 s,
 * while reviews v2 waits up to 10 s for ratings — and reviews v3, which waits 2.5 s, fixes it.
 * The polyglot bookinfo runs (Python, Go, Java behind `weft sidecar`s, ratings in Node); the
 * recipe runs with `weft recipe-run` as an operator would, routing the load (user jason) to v2,
 * then to v3. Its files are Gremlin's JSON, as Amalgam8's repository had them, with `reviews`
 * left unversioned so the same recipe judges both.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Bookinfo, startBookinfo } from '@weft/examples/bookinfo';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storedRules, weft } from '../servers-ops/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-bookinfo-recipe-'));
let bookinfo: Bookinfo;

const file = (name: string, data: unknown): string => {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(data, null, 2));
  return path;
};

const topology = file('topology.json', {
  services: [
    { name: 'gateway:version=none' },
    { name: 'productpage:version=v1' },
    { name: 'details:version=v1' },
    { name: 'reviews' },
    { name: 'ratings:version=v1' },
  ],
  dependencies: {
    'gateway:version=none': ['productpage:version=v1'],
    'productpage:version=v1': ['details:version=v1', 'reviews'],
    reviews: ['ratings:version=v1'],
  },
});
const scenarios = file('gremlins.json', {
  gremlins: [{ scenario: 'delay_requests', source: 'reviews', dest: 'ratings:version=v1', delaytime: '7s' }],
});
const checks = file('checks.json', {
  checks: [
    // productpage must get reviews' answer: reviews has to give up on ratings before productpage gives up on it.
    { name: 'http_status', source: 'productpage:version=v1', dest: 'reviews', status: 200 },
    { name: 'bounded_response_time', source: 'gateway:none', dest: 'productpage:version=v1', max_latency: '4s' },
  ],
});

/** jason's requests to reviews go to `version`, the rest stay on v1 (Amalgam8's bookinfo flow). */
async function routeJasonTo(version: string): Promise<void> {
  await fetch(`${bookinfo.urls.controlPlane}/v1/rules?id=reviews-jason`, { method: 'DELETE' });
  const res = await fetch(`${bookinfo.urls.controlPlane}/v1/rules`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      rules: [
        {
          id: 'reviews-jason',
          priority: 2,
          destination: 'reviews',
          match: { cookies: { user: { exact: 'jason' } } },
          route: { backends: [{ tags: [`version=${version}`] }] },
        },
      ],
    }),
  });
  expect(res.status).toBe(201);
  await bookinfo.rulesApplied();
}

async function runRecipe(): Promise<{ code: number; stdout: string; stderr: string }> {
  return weft(
    [
      'recipe-run',
      '-t',
      topology,
      '-s',
      scenarios,
      '-c',
      checks,
      '--load-url',
      bookinfo.urls.productApi,
      '--load-header',
      'Cookie: user=jason',
      '--rate',
      '2',
      '--duration',
      '2s',
      '--concurrency',
      '4',
      ...bookinfo.proxies.flatMap((p) => ['--proxy', p.admin]),
    ],
    { env: { A8_CONTROLLER_URL: bookinfo.urls.controlPlane, A8_REGISTRY_URL: bookinfo.urls.controlPlane } },
  );
}

beforeAll(async () => {
  bookinfo = await startBookinfo();
}, 180_000);

afterAll(async () => {
  await bookinfo?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the bookinfo recipe', () => {
  it('fails on reviews v2: productpage gives up before reviews does (exit 5)', async () => {
    await routeJasonTo('v2');
    const run = await runRecipe();
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(5);
    expect(run.stdout).toMatch(
      /http_status\s+productpage:version=v1 → reviews\s+4\s+FAIL\s+4 of 4 answered no response/,
    );
    expect(run.stdout).toMatch(/fault: reviews → ratings:version=v1: delay 7s \(p 1\)/);
    expect(run.stdout).toMatch(/rules: \d+ added, all removed/);
    // Only the recipe's rules were removed: bookinfo's own stay.
    expect((await storedRules(bookinfo.urls.controlPlane)).map((r) => r.id).sort()).toEqual([
      'details-default',
      'productpage-default',
      'ratings-default',
      'reviews-default',
      'reviews-jason',
    ]);
  }, 120_000);

  it('passes on reviews v3, which gives up on ratings first (exit 0)', async () => {
    await routeJasonTo('v3');
    const run = await runRecipe();
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toMatch(/http_status\s+productpage:version=v1 → reviews\s+4\s+PASS/);
    expect(run.stdout).toMatch(/bounded_response_time\s+gateway → productpage:version=v1\s+4\s+PASS/);
  }, 120_000);
});
