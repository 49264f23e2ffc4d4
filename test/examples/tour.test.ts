/**
 * Runs the Weft tour (`npm run -w @weft/examples tour`): a control plane and an all-Node bookinfo
 * in one process, nothing to install. Checks what each step shows — version routing, the timeout
 * conflict and its fix, the canary's share, the access log of one request hop by hop, a
 * resilience recipe judged over the Node services' own access-log records — that it
 * stays well under the demo's 30 s, and that it leaves nothing running.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { processesWithEnv, runExample, section } from './run-example.js';

const marker = `WEFT_EXAMPLE_RUN=tour-${process.pid}-${Date.now()}`;

const pages = (text: string) =>
  [...text.matchAll(/^ {3}(anonymous|jason) +→ +(\d+) ms {2}(.*)$/gm)].map((m) => ({
    user: m[1] as string,
    ms: Number(m[2]),
    shows: m[3] as string,
  }));

describe('the Weft tour (all-Node bookinfo on the embedded control plane)', () => {
  let stdout = '';
  let seconds = 0;
  beforeAll(async () => {
    const [name, value] = marker.split('=') as [string, string];
    const started = performance.now();
    stdout = await runExample('tour/main.ts', { env: { [name]: value } });
    seconds = (performance.now() - started) / 1000;
  }, 60_000);

  it('registers six Node instances in the control plane and routes by version and cookie', () => {
    expect(stdout).toMatch(/reviews +v3 +127\.0\.0\.1:\d+/);
    expect(pages(section(stdout, 3))).toEqual([
      expect.objectContaining({ user: 'anonymous', shows: 'details ✓, reviews v1: no stars' }),
      expect.objectContaining({ user: 'anonymous', shows: 'details ✓, reviews v1: no stars' }),
      expect.objectContaining({ user: 'jason', shows: 'details ✓, reviews v2: ★★★★★ ★★★★☆ (black)' }),
    ]);
  });

  it('shows the timeout conflict under the 7 s delay, and reviews v3 fixing it', () => {
    const [v2, v3, cleared] = pages(section(stdout, 4));
    expect(v2?.shows).toMatch(/^details ✓, reviews unavailable \(no answer from reviews within 3 s/);
    expect(v2?.ms).toBeGreaterThanOrEqual(2900);
    expect(v2?.ms).toBeLessThan(6000);
    expect(v3).toMatchObject({ shows: 'details ✓, reviews v3: ratings unavailable' });
    expect(v3?.ms).toBeGreaterThanOrEqual(2400);
    expect(v3?.ms).toBeLessThan(3500); // measured here, around productpage's own 3 s
    expect(cleared).toMatchObject({ shows: 'details ✓, reviews v3: ★★★★★ ★★★★☆ (red)' });
  });

  it('splits the canary within binomial bounds', () => {
    const m = /200 pages, v3 at 25 %: v1=(\d+) {2}v3=(\d+)/.exec(section(stdout, 5));
    expect(m).not.toBeNull();
    expect(Number(m?.[1]) + Number(m?.[2])).toBe(200);
    // 200 × 0.25 = 50, σ ≈ 6.1: 4σ bounds.
    expect(Number(m?.[2])).toBeGreaterThanOrEqual(25);
    expect(Number(m?.[2])).toBeLessThanOrEqual(75);
  });

  it("prints the access log of one of jason's pages, hop by hop", () => {
    const hops = [...section(stdout, 6).matchAll(/^ {3}(\S+) +→ (\S+) +(\d{3}) /gm)].map(
      (m) => `${m[1]} → ${m[2]} ${m[3]}`,
    );
    expect(hops).toEqual([
      'gateway → productpage:version=v1 200',
      'productpage:version=v1 → details:version=v1 200',
      'productpage:version=v1 → reviews:version=v3 200',
      'reviews:version=v3 → ratings:version=v1 200',
    ]);
  });

  it('runs a resilience recipe over the records the MeshAgent services serve, and removes its rules', () => {
    const text = section(stdout, 7);
    expect(text).toMatch(/fault: reviews:version=v3 → ratings:version=v1: reset \(p 1\)/);
    expect(text).toMatch(/load: 10 pages, 200 ×10,/);
    // The fault was in place: reviews v3's calls to ratings got no answer (status 0, reset).
    expect(text).toMatch(/PASS {2}http_status reviews:version=v3 → ratings:version=v1 +10 calls: all 10 answered 0/);
    expect(text).toMatch(
      /PASS {2}http_status productpage:version=v1 → reviews:version=v3 +10 calls: all 10 answered 200/,
    );
    expect(text).toMatch(/PASS {2}bounded_response_time gateway → productpage:version=v1 +10 calls: all 10 within 1s/);
    // The records came over HTTP from the services themselves (serveAccessLog), not from a sidecar.
    const from = /records: \d+ from (.*)$/m.exec(text)?.[1]?.split(', ') ?? [];
    expect(from).toEqual(expect.arrayContaining(['productpage:version=v1 20', 'reviews:version=v3 10', 'gateway 10']));
    expect(text).toMatch(/recipe recipe-[0-9a-f]{12}: every check passed; its \d+ rules removed/);
  });

  it('finishes well within the demo budget and leaves nothing running', () => {
    expect(stdout).toMatch(/Done: everything ran in this process and is closed\./);
    expect(seconds).toBeLessThan(25);
    expect(processesWithEnv(marker)).toEqual([]);
  });
});
