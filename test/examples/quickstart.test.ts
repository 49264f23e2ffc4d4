/**
 * Runs the README's demo (`npm run demo`) the way a newcomer does and checks that it shows what
 * it promises, so the front door stays true.
 */
import { describe, expect, it } from 'vitest';
import { runExample } from './run-example.js';

describe('quickstart demo', () => {
  it('registers, watches, expires an instance, balances and rejects bad input', async () => {
    const stdout = await runExample('quickstart.ts');
    // Four registrations issued together reach the watch as one coalesced snapshot.
    expect(stdout).toMatch(/watch ▸ revision \d+: 4 instance\(s\), 3 UP {2}\(t\+0s\)/);
    expect(stdout).not.toMatch(/watch ▸ revision \d+: [123] instance\(s\)[^\n]*\(t\+0s\)/);
    // 10.0.0.2 stops renewing: it expires and renewing it is the 410 of the HTTP API.
    expect(stdout).toMatch(/renew 10\.0\.0\.2 → WEFT_ERR_UNKNOWN_INSTANCE \(HTTP 410\)/);
    // Peak-EWMA learns that 10.0.0.3 is slow and nearly stops sending it traffic.
    const ewma = /peak_ewma +10\.0\.0\.1=(\d+) +10\.0\.0\.3=(\d+) +10\.0\.0\.5=(\d+)/.exec(stdout);
    expect(ewma).not.toBeNull();
    expect(Number(ewma?.[2])).toBeLessThan(100);
    // Round robin spreads evenly over the three UP endpoints.
    expect(stdout).toMatch(/round_robin +10\.0\.0\.1=1000 +10\.0\.0\.3=1000 +10\.0\.0\.5=1000/);
    // OUT_OF_SERVICE survives a minute without heartbeats and leaves the balancing set.
    expect(stdout).toMatch(/10\.0\.0\.3:9080 \[version=v2\] OUT_OF_SERVICE/);
    expect(stdout).toMatch(/discovery now balances over: 10\.0\.0\.5:9080, 10\.0\.0\.1:9080/);
    expect(stdout).toMatch(/WEFT_ERR_INVALID_ARGUMENT: Invalid registration: service: must be at most 64 bytes/);
  });
});
