/**
 * Runs the second half of `npm run demo`, the mesh tour, as a newcomer does, and checks that
 * each step shows what it says: the demo is the proxy's front door, so it must stay true.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runExample } from './run-example.js';

/** The counts `name=n` printed on the first line that matches `line`. */
function counts(stdout: string, line: RegExp): Record<string, number> {
  const found = stdout.split('\n').find((l) => line.test(l));
  expect(found, `a line matching ${line}`).toBeDefined();
  const out: Record<string, number> = {};
  for (const m of (found as string).matchAll(/([\w.:]+|HTTP \d+)=(\d+)/g)) out[m[1] as string] = Number(m[2]);
  return out;
}

describe('mesh tour demo', () => {
  let stdout = '';
  beforeAll(async () => {
    stdout = await runExample('mesh-tour.ts');
  }, 70_000);

  it('balances global fetch over the three instances', () => {
    const spread = counts(stdout, /no rules \(least-request\)/);
    expect(Object.keys(spread)).toHaveLength(3);
    for (const n of Object.values(spread)) expect(n).toBeGreaterThan(50);
  });

  it('splits by weight within binomial bounds and routes jason by cookie', () => {
    const weighted = counts(stdout, /anonymous × 400/);
    // 400 × 0.25 = 100, σ ≈ 8.7: 4σ bounds, so the test is not flaky yet catches a wrong split.
    expect(weighted.v2).toBeGreaterThanOrEqual(65);
    expect(weighted.v2).toBeLessThanOrEqual(135);
    expect(weighted.v1).toBe(400 - (weighted.v2 as number));
    expect(counts(stdout, /user=jason × 50/)).toEqual({ v2: 50 });
  });

  it('injects the delay for jason and the abort for about half of bob only', () => {
    const ms = Number(/jason's call took (\d+) ms/.exec(stdout)?.[1]);
    expect(ms).toBeGreaterThanOrEqual(290);
    const bob = counts(stdout, /bob × 200/);
    expect(bob['HTTP 503']).toBeGreaterThanOrEqual(60);
    expect(bob['HTTP 503']).toBeLessThanOrEqual(140);
    expect(counts(stdout, /anyone else × 50/)['HTTP 503']).toBeUndefined();
  });

  it('loses no call when an instance dies, retries and ejects it', () => {
    const killed = /killed 127\.0\.0\.1:(\d+)/.exec(stdout)?.[1];
    const spread = counts(stdout, /killed 127\.0\.0\.1/);
    expect(Object.values(spread).reduce((a, b) => a + b, 0)).toBe(300);
    expect(Object.keys(spread).some((k) => k.startsWith('HTTP'))).toBe(false);
    expect(spread[`127.0.0.1:${killed}`]).toBeUndefined();
    const [, retries, ejections] = /retries (\d+), ejections (\d+)/.exec(stdout) ?? [];
    expect(Number(retries)).toBeGreaterThan(0);
    expect(Number(ejections)).toBeGreaterThanOrEqual(1);
  });

  it('explains a failed call attempt by attempt', () => {
    expect(stdout).toMatch(/WEFT_ERR_RETRIES_EXHAUSTED \(a proxy answers 50\d\)/);
    expect(stdout).toMatch(/#1 127\.0\.0\.1:\d+ connect-failure/);
  });

  it('serves the mesh and its rules through the sidecar, with a JSON 404 for an unknown service', () => {
    expect(stdout).toMatch(/reviews\/api\/v1\/reviews\/7 \(user=jason\) → 200\n {3}\{"version":"v2"/);
    expect(stdout).toMatch(/GET \/ratings\/1 → 404 .*"code":"WEFT_ERR_UNKNOWN_SERVICE"/);
    expect(stdout).toMatch(/debug\/explain \(user=jason\): jason-to-v2 matched, canary not_evaluated → version=v2 ×1/);
    expect(stdout).toMatch(/debug\/endpoints, reviews [^\n]*\[version=v2\] breaker closed/);
  });
});
