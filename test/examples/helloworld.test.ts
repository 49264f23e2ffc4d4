/**
 * Runs the helloworld example (`npm run -w @weft/examples helloworld`) as a user does — a control
 * plane, two sidecars with their apps and a gateway as real processes — and checks each step's
 * split of the gateway's traffic, and that nothing is left running once it exits.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { processesWithEnv, runExample } from './run-example.js';

const marker = `WEFT_EXAMPLE_RUN=helloworld-${process.pid}-${Date.now()}`;

/** The `v1=… v2=…` counts printed for each `v2 at N %` measurement, in order. */
function measurements(stdout: string): { percent: number; n: number; v1: number; v2: number; other: number }[] {
  return [...stdout.matchAll(/(\d+) requests through the gateway, v2 at (\d+) %: ([^(\n]*)/g)].map((m) => {
    const counts = Object.fromEntries([...(m[3] as string).matchAll(/(\S+)=(\d+)/g)].map((c) => [c[1], Number(c[2])]));
    const { v1 = 0, v2 = 0, ...rest } = counts as Record<string, number>;
    return {
      n: Number(m[1]),
      percent: Number(m[2]),
      v1,
      v2,
      other: Object.values(rest).reduce((a, b) => a + b, 0),
    };
  });
}

describe('helloworld example', () => {
  let stdout = '';
  beforeAll(async () => {
    const [name, value] = marker.split('=') as [string, string];
    stdout = await runExample('helloworld/main.ts', { env: { [name]: value } });
  }, 90_000);

  it('registers both versions through their sidecars', () => {
    expect(stdout).toMatch(/helloworld +version=v1\(1\), version=v2\(1\)/);
  });

  it('routes all traffic to v1, then 25 %, then the canary 10 → 20 → 50 → 100 % to v2, within binomial bounds', () => {
    const steps = measurements(stdout);
    expect(steps.map((s) => s.percent)).toEqual([0, 25, 10, 20, 50, 100]);
    for (const { percent, n, v1, v2, other } of steps) {
      // Every request answered by one of the two versions, none failed.
      expect(other, `failed requests at ${percent} %`).toBe(0);
      expect(v1 + v2).toBe(n);
      // 4σ of the binomial: a wrong split (or none) fails, a fair one almost never (p ≈ 6e-5).
      const p = percent / 100;
      const sigma = Math.sqrt(n * p * (1 - p));
      expect(v2, `v2 at ${percent} %`).toBeGreaterThanOrEqual(Math.floor(n * p - 4 * sigma));
      expect(v2, `v2 at ${percent} %`).toBeLessThanOrEqual(Math.ceil(n * p + 4 * sigma));
    }
    expect(stdout).toMatch(/Transfer complete for helloworld: sending 100% of traffic to version=v2/);
  });

  it('exits cleanly, leaving no process behind', () => {
    expect(stdout).toMatch(/All processes stopped\./);
    expect(processesWithEnv(marker)).toEqual([]);
  });
});
