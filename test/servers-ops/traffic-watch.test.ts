/**
 * `traffic-step --watch` against a real control plane and a real Sidecar (in this process)
 * whose admin /metrics the watch reads, with two upstream versions of the service.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WeftRegistrySource, WeftRulesSource } from '@weft/adapters/weft';
import { Discovery } from '@weft/core';
import { MeshMetrics, rulesRouter, Sidecar } from '@weft/proxy/sidecar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlane, startControlPlane, storedRules, weft } from './helpers.js';

let cp: ControlPlane;
let env: NodeJS.ProcessEnv;
let sidecar: Sidecar;
let proxyPort: number;
let metricsUrl: string;
let closeSources: () => Promise<void>;
const upstreams: Server[] = [];
/** Whether v2 answers 500: the canary going bad. */
let v2Fails = false;

async function upstream(answer: () => number): Promise<number> {
  const server = createServer((_req, res) => {
    res.statusCode = answer();
    res.end('ok');
  });
  upstreams.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

beforeAll(async () => {
  cp = await startControlPlane();
  env = { WEFT_CONTROLLER_URL: cp.url, WEFT_REGISTRY_URL: cp.url };
  await cp.register('reviews', ['v1'], await upstream(() => 200), '127.0.0.1');
  await cp.register('reviews', ['v2'], await upstream(() => (v2Fails ? 500 : 200)), '127.0.0.1');
  expect((await weft(['route-set', 'reviews', '--default', 'v1'], { env })).code).toBe(0);

  // The sidecar of a caller of reviews, fed live by the control plane, as `weft sidecar` builds it.
  const registry = new WeftRegistrySource({ url: cp.url });
  const rulesSource = new WeftRulesSource({ url: cp.url });
  const discovery = new Discovery({ sources: [registry] });
  const router = rulesRouter([]);
  const following = rulesSource.follow(router);
  await following.ready();
  sidecar = new Sidecar({
    discovery,
    router,
    metrics: new MeshMetrics(),
    port: 0,
    admin: { port: 0 },
    accessLog: false,
  });
  const addresses = await sidecar.listen();
  proxyPort = addresses.port;
  metricsUrl = `http://127.0.0.1:${addresses.adminPort}/metrics`;
  closeSources = async () => {
    following.unsubscribe();
    discovery.close();
    await Promise.all([registry.close(), rulesSource.close()]);
  };
}, 30_000);

afterAll(async () => {
  await sidecar?.drain();
  await closeSources?.();
  for (const s of upstreams) s.close();
  await cp?.stop();
});

/** Calls reviews through the sidecar until stopped, as the caller's app would. */
function traffic(): { stop: () => Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      const res = await fetch(`http://127.0.0.1:${proxyPort}/reviews/`).catch(() => undefined);
      await res?.text();
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

const defaultBackends = async (): Promise<unknown> => {
  const rules = await storedRules(cp.url, 'reviews');
  return (rules.find((r) => r.match === undefined) as { route: { backends: unknown } }).route.backends;
};

describe('weft traffic-step --watch', () => {
  it('steps a healthy canary on, showing each window, to --amount in --steps steps', async () => {
    expect((await weft(['traffic-start', 'reviews', 'v2', '--amount', '50'], { env })).code).toBe(0);
    const load = traffic();
    const run = await weft(
      [
        'traffic-step',
        'reviews',
        '--watch',
        '--metrics-url',
        metricsUrl,
        '--interval',
        '400ms',
        '--amount',
        '70',
        '--steps',
        '2',
        '--max-error-rate',
        '5%',
        '--max-p99',
        '2s',
      ],
      { env },
    );
    await load.stop();
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(
      /^reviews at 50% — last 400ms through 1 proxy: canary v2: [1-9]\d* requests, 0 5xx \(error rate 0%\), p50 [\d.]+ms, p99 [\d.]+ms; all: [1-9]\d* requests, 0 5xx \(error rate 0%\), p50 [\d.]+ms, p99 [\d.]+ms$/,
    );
    expect(lines[1]).toBe('Transfer step for reviews: diverting 60% of traffic from v1 to v2');
    expect(lines[2]).toMatch(/^reviews at 60% —/);
    expect(lines[3]).toBe('Transfer step for reviews: diverting 70% of traffic from v1 to v2');
    expect(await defaultBackends()).toEqual([{ tags: ['v2'], weight: 0.7 }, { tags: ['v1'] }]);
    expect((await weft(['traffic-abort', 'reviews'], { env })).code).toBe(0);
  }, 30_000);

  it("judges the canary's own calls: a canary failing every call at 30 % aborts at --max-error-rate 50%, and exits 5", async () => {
    v2Fails = true;
    expect((await weft(['traffic-start', 'reviews', 'v2', '--amount', '30'], { env })).code).toBe(0);
    const load = traffic();
    const run = await weft(
      [
        'traffic-step',
        'reviews',
        '--watch',
        '--metrics-url',
        metricsUrl,
        '--interval',
        '500ms',
        '--max-error-rate',
        '50%',
      ],
      { env },
    );
    await load.stop();
    expect(run.code).toBe(5);
    const [window, aborted] = run.stdout.trim().split('\n');
    // Every call to v2 failed; the service as a whole failed about 30 % of its calls, which the
    // threshold would have let through had the window been judged per service.
    expect(window).toMatch(
      /^reviews at 30% — .*: canary v2: ([1-9]\d*) requests, \1 5xx \(error rate 100%\), p50 .*; all: /,
    );
    expect(aborted).toMatch(
      /^Transfer aborted for reviews \(v2 error rate 100% > --max-error-rate 50%\): all traffic reverted to v1$/,
    );
    expect(await defaultBackends()).toEqual([{ tags: ['v1'] }]);
  }, 30_000);

  it('Ctrl-C during a window stops watching, leaves the transfer where it is and exits 130', async () => {
    v2Fails = false;
    expect((await weft(['traffic-start', 'reviews', 'v2', '--amount', '20'], { env })).code).toBe(0);
    const run = await weft(['traffic-step', 'reviews', '--watch', '--metrics-url', metricsUrl, '--interval', '1m'], {
      env,
      interruptAfterMs: 2000,
    });
    expect(run.code).toBe(130);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(
      'interrupted: the transfer of reviews stays at 20% to v2; go on with weft traffic-step reviews, or revert with weft traffic-abort reviews',
    );
    expect(await defaultBackends()).toEqual([{ tags: ['v2'], weight: 0.2 }, { tags: ['v1'] }]);
    expect((await weft(['traffic-abort', 'reviews'], { env })).code).toBe(0);
  }, 30_000);

  it('refuses watch settings without --watch, --watch without --metrics-url, bad thresholds (exit 2); an unreadable proxy is exit 1', async () => {
    const cases: [string[], RegExp][] = [
      [['--interval', '1s'], /--interval goes with --watch/],
      [['--watch'], /--watch needs the proxies' metrics: --metrics-url/],
      [['--watch', '--metrics-url', metricsUrl, '--max-error-rate', '150%'], /--max-error-rate takes a percentage/],
      [['--watch', '--metrics-url', metricsUrl, '--max-p99', '300'], /--max-p99 takes a duration with a unit/],
    ];
    for (const [flags, message] of cases) {
      const run = await weft(['traffic-step', 'reviews', ...flags], { env });
      expect(run.code, flags.join(' ')).toBe(2);
      expect(run.stderr).toMatch(message);
    }
    await weft(['traffic-start', 'reviews', 'v2'], { env });
    const down = await weft(['traffic-step', 'reviews', '--watch', '--metrics-url', 'http://127.0.0.1:1/metrics'], {
      env,
    });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/cannot read the metrics at http:\/\/127\.0\.0\.1:1\/metrics .*left as it is/);
    expect(await defaultBackends()).toEqual([{ tags: ['v2'], weight: 0.1 }, { tags: ['v1'] }]);
  }, 30_000);
});
