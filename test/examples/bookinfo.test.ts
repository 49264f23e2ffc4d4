/**
 * Runs the polyglot bookinfo example (`npm run -w @weft/examples bookinfo`) as a user does —
 * productpage in Python, details in Go, reviews v1/v2/v3 in Java, each behind a `weft sidecar`
 * process, ratings in Node, a gateway and a control plane — and checks Amalgam8's flows on what
 * the product page shows: version routing by cookie, the 7 s delay exposing productpage's
 * shorter timeout, reviews v3 fixing it, the canary's shares, and nothing left running.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { processesWithEnv, runExample, section } from './run-example.js';

const marker = `WEFT_EXAMPLE_RUN=bookinfo-${process.pid}-${Date.now()}`;

/** The page loads printed in a step: who asked, how long it took, what the page showed. */
function pages(text: string): { user: string; ms: number; shows: string }[] {
  return [...text.matchAll(/^ {3}(anonymous|jason) +→ +(\d+) ms {2}(.*)$/gm)].map((m) => ({
    user: m[1] as string,
    ms: Number(m[2]),
    shows: m[3] as string,
  }));
}

describe('polyglot bookinfo example', () => {
  let stdout = '';
  beforeAll(async () => {
    const [name, value] = marker.split('=') as [string, string];
    stdout = await runExample('bookinfo/main.ts', { env: { [name]: value }, timeoutMs: 150_000 });
  }, 160_000);

  it('registers the Python, Go and Java apps through their sidecars, and ratings in-process', () => {
    expect(stdout).toMatch(/details +version=v1\(1\)/);
    expect(stdout).toMatch(/productpage +version=v1\(1\)/);
    expect(stdout).toMatch(/ratings +version=v1\(1\)/);
    expect(stdout).toMatch(/reviews +version=v1\(1\), version=v2\(1\), version=v3\(1\)/);
  });

  it('routes everyone to v1, then jason (by cookie) to reviews v2 with black stars', () => {
    expect(pages(section(stdout, 2))).toEqual([
      expect.objectContaining({ user: 'anonymous', shows: 'details ✓, reviews v1: no stars' }),
      expect.objectContaining({ user: 'jason', shows: 'details ✓, reviews v1: no stars' }),
    ]);
    expect(pages(section(stdout, 3))).toEqual([
      expect.objectContaining({ user: 'anonymous', shows: 'details ✓, reviews v1: no stars' }),
      expect.objectContaining({ user: 'jason', shows: 'details ✓, reviews v2: ★★★★★ ★★★★☆ (black)' }),
    ]);
  });

  it("exposes the timeout conflict: with ratings delayed 7 s, productpage gives up at 3 s, before reviews v2's 10 s", () => {
    const [jason, anonymous] = pages(section(stdout, 4));
    expect(jason?.user).toBe('jason');
    expect(jason?.shows).toMatch(/^details ✓, reviews unavailable \(no answer from reviews within 3 s/);
    // productpage's own 3 s timeout, not the 7 s delay and not reviews' 10 s.
    expect(jason?.ms).toBeGreaterThanOrEqual(2900);
    expect(jason?.ms).toBeLessThan(6000);
    // Only jason is delayed.
    expect(anonymous).toMatchObject({ user: 'anonymous', shows: 'details ✓, reviews v1: no stars' });
    expect(anonymous?.ms).toBeLessThan(2000);
  });

  it('fixes it with reviews v3: under the same delay the page keeps its reviews, then shows red stars', () => {
    const [delayed, cleared] = pages(section(stdout, 5));
    expect(delayed).toMatchObject({ user: 'jason', shows: 'details ✓, reviews v3: ratings unavailable' });
    // reviews v3's 2.5 s timeout on ratings, inside productpage's 3 s.
    expect(delayed?.ms).toBeGreaterThanOrEqual(2400);
    expect(delayed?.ms).toBeLessThan(3500); // measured here, around productpage's own 3 s
    expect(cleared).toMatchObject({ user: 'jason', shows: 'details ✓, reviews v3: ★★★★★ ★★★★☆ (red)' });
  });

  it('moves everyone to reviews v3 in a canary, 10 → 20 → 50 → 100 %, within binomial bounds', () => {
    const steps = [...section(stdout, 6).matchAll(/(\d+) pages, v3 at (\d+) %: ([^(\n]*)/g)].map((m) => {
      const counts = Object.fromEntries(
        [...(m[3] as string).matchAll(/(\S+)=(\d+)/g)].map((c) => [c[1], Number(c[2])]),
      );
      return { n: Number(m[1]), percent: Number(m[2]), counts: counts as Record<string, number> };
    });
    expect(steps.map((s) => s.percent)).toEqual([10, 20, 50, 100]);
    for (const { n, percent, counts } of steps) {
      const { v1 = 0, v3 = 0, ...rest } = counts;
      expect(rest, `pages without reviews v1 or v3 at ${percent} %`).toEqual({});
      expect(v1 + v3).toBe(n);
      const p = percent / 100;
      const sigma = Math.sqrt(n * p * (1 - p));
      expect(v3, `v3 at ${percent} %`).toBeGreaterThanOrEqual(Math.floor(n * p - 4 * sigma));
      expect(v3, `v3 at ${percent} %`).toBeLessThanOrEqual(Math.ceil(n * p + 4 * sigma));
    }
  });

  it('exits cleanly, leaving no process behind', () => {
    expect(stdout).toMatch(/All processes stopped\./);
    expect(processesWithEnv(marker)).toEqual([]);
  });
});

describe('polyglot bookinfo example without go', () => {
  it('says which toolchain is missing, and what for, before starting anything', async () => {
    const hasGo = (dir: string): boolean => {
      try {
        accessSync(join(dir, 'go'), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    };
    const path = (process.env.PATH ?? '')
      .split(delimiter)
      .filter((dir) => !hasGo(dir))
      .join(delimiter);
    const failed = await runExample('bookinfo/main.ts', { env: { PATH: path } }).then(
      () => undefined,
      (err: { code?: number; stderr?: string; stdout?: string }) => err,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toMatch(/the polyglot bookinfo cannot start:\n {2}- go \(for details\) is not on PATH/);
    expect(failed?.stderr).not.toMatch(/python3|java/);
    expect(failed?.stdout).not.toMatch(/ready in/);
  });
});
