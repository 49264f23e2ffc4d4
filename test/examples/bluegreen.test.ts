/**
 * Runs the blue/green example (`npm run -w @weft/examples bluegreen`): three hops on the embedded
 * control plane, users blue and green. Checks that every request goes to blue first, that the
 * 1:9 rule splits within binomial bounds, that one request id appears in the access-log records
 * of all three hops (read from each hop's own log), and that nothing is left running.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { processesWithEnv, runExample, section } from './run-example.js';

const marker = `WEFT_EXAMPLE_RUN=bluegreen-${process.pid}-${Date.now()}`;

describe('blue/green at 1:9 across three hops', () => {
  let stdout = '';
  beforeAll(async () => {
    const [name, value] = marker.split('=') as [string, string];
    stdout = await runExample('bluegreen/main.ts', { env: { [name]: value } });
  }, 60_000);

  it('sends every request to blue under the default rule, set with weft route-set', () => {
    const text = section(stdout, 2);
    expect(text).toMatch(/\$ weft route-set users --default blue\n/);
    expect(text).toMatch(/50 requests: blue=50$/m);
  });

  it('splits 1:9 between blue and green within binomial bounds', () => {
    const text = section(stdout, 3);
    expect(text).toMatch(/\$ weft route-set users --default blue --selector 'green\(weight=0\.9\)'/);
    const m = /400 requests: blue=(\d+) {2}green=(\d+)/.exec(text);
    expect(m, text).not.toBeNull();
    const [blue, green] = [Number(m?.[1]), Number(m?.[2])];
    expect(blue + green).toBe(400);
    // 400 × 0.1 = 40, σ = √(400 × 0.1 × 0.9) = 6: 4σ bounds (a false failure about once in 16 000 runs).
    expect(blue).toBeGreaterThanOrEqual(16);
    expect(blue).toBeLessThanOrEqual(64);
  });

  it("shows one request id in the records of all three hops, each from that hop's own log", () => {
    const text = section(stdout, 4);
    const id = /the gateway gave the request the id (\S+);/.exec(text)?.[1];
    expect(id).toBeDefined();
    const hops = [...text.matchAll(/^ {3}hop (\d), (\w+)'s log: +(\S+) +→ (\S+) +(\d{3}) {2}request_id (\S+)$/gm)].map(
      (m) => ({ n: m[1], log: m[2], src: m[3], dst: m[4], status: m[5], requestId: m[6] }),
    );
    expect(hops).toEqual([
      { n: '1', log: 'gateway', src: 'gateway', dst: 'web', status: '200', requestId: id },
      { n: '2', log: 'web', src: 'web:version=v1', dst: 'api', status: '200', requestId: id },
      {
        n: '3',
        log: 'api',
        src: 'api:version=v1',
        dst: expect.stringMatching(/^users:version=(blue|green)$/),
        status: '200',
        requestId: id,
      },
    ]);
  });

  it('blocks one client address at the gateway with an authorization policy, and opens again when it is removed', () => {
    const text = section(stdout, 5);
    expect(text).toMatch(/\$ weft authz-set -f \S+\.json\n/);
    expect(text).toMatch(/from 127\.0\.0\.2: 403 WEFT_ERR_FORBIDDEN \(policy block-lab\)$/m);
    expect(text).toMatch(/from 127\.0\.0\.3: 200$/m);
    expect(text).toMatch(/after authz-clear, from 127\.0\.0\.2: 200$/m);
  });

  it('closes everything', () => {
    expect(stdout).toMatch(/Done: every server and agent closed\./);
    expect(processesWithEnv(marker)).toEqual([]);
  });
});
