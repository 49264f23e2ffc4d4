/** Canary transfers, explain, lint, info, status and the failures scripts rely on, as processes. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlane, startControlPlane, storedRules, weft } from './helpers.js';

let cp: ControlPlane;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  cp = await startControlPlane();
  env = { WEFT_CONTROLLER_URL: cp.url, WEFT_REGISTRY_URL: cp.url };
  await cp.register('reviews', ['v1'], 9001);
  await cp.register('reviews', ['v2'], 9002);
});
afterAll(() => cp?.stop());

const backends = async (): Promise<unknown> => {
  const rules = await storedRules(cp.url, 'reviews');
  return (rules.find((r) => r.match === undefined) as { route: { backends: unknown } }).route.backends;
};

describe('weft operator commands: traffic, explain, lint, info, status', () => {
  it("traffic-start → step → step --amount → abort, with a8ctl's messages and state checks", async () => {
    expect((await weft(['traffic-start', 'reviews', 'v2'], { env })).code).toBe(3); // no rules yet
    expect(
      (await weft(['route-set', 'reviews', '--default', 'v1', '--selector', 'v2(user="jason")'], { env })).code,
    ).toBe(0);

    const start = await weft(['traffic-start', 'reviews', 'v2'], { env });
    expect(start).toMatchObject({
      code: 0,
      stdout: 'Transfer starting for reviews: diverting 10% of traffic from v1 to v2\n',
    });
    expect(await backends()).toEqual([{ tags: ['v2'], weight: 0.1 }, { tags: ['v1'] }]);
    expect((await weft(['traffic-start', 'reviews', 'v2'], { env })).code).toBe(4); // already split

    const step = await weft(['traffic-step', 'reviews'], { env });
    expect(step.stdout).toBe('Transfer step for reviews: diverting 20% of traffic from v1 to v2\n');
    expect(await backends()).toEqual([{ tags: ['v2'], weight: 0.2 }, { tags: ['v1'] }]);
    await weft(['traffic-step', 'reviews', '--amount', '50'], { env });
    expect(await backends()).toEqual([{ tags: ['v2'], weight: 0.5 }, { tags: ['v1'] }]);

    const abort = await weft(['traffic-abort', 'reviews'], { env });
    expect(abort).toMatchObject({ code: 0, stdout: 'Transfer aborted for reviews: all traffic reverted to v1\n' });
    expect(await backends()).toEqual([{ tags: ['v1'] }]);
    const noCanary = await weft(['traffic-step', 'reviews'], { env });
    expect(noCanary.code).toBe(4);
    expect(noCanary.stderr).toMatch(/no traffic transfer in progress for reviews.*weft traffic-start reviews/);

    // The jason rule above the default stayed as it was throughout.
    expect(await storedRules(cp.url, 'reviews')).toContainEqual(
      expect.objectContaining({ match: { cookies: { user: { exact: 'jason' } } } }),
    );

    // To the end: 95 %, then a step completes it.
    await weft(['traffic-start', 'reviews', 'v2', '--amount', '95'], { env });
    const done = await weft(['traffic-step', 'reviews'], { env });
    expect(done.stdout).toBe('Transfer complete for reviews: sending 100% of traffic to v2\n');
    expect(await backends()).toEqual([{ tags: ['v2'] }]);

    expect((await weft(['traffic-start', 'reviews', 'v9'], { env })).code).toBe(3); // no such instances
    const amount = await weft(['traffic-start', 'reviews', 'v1', '--amount', '150'], { env });
    expect(amount.code).toBe(2);
    expect(amount.stderr).toMatch(/--amount must be a whole percentage between 1 and 100/);
  });

  it('explain says which rule a request gets, over the live rules', async () => {
    await weft(['route-set', 'reviews', '--default', 'v1', '--selector', 'v2(user="jason")'], { env });
    const jason = await weft(['explain', 'reviews', '-H', 'Cookie: a=1; user=jason', '--source', 'productpage:v1'], {
      env,
    });
    expect(jason.code).toBe(0);
    expect(jason.stdout).toMatch(/destination "reviews": route/);
    expect(jason.stdout).toMatch(/v2.*chosen/);
    const json = await weft(['explain', 'reviews', '-o', 'json', '--seed', '1'], { env });
    expect(JSON.parse(json.stdout)).toMatchObject({
      destination: 'reviews',
      status: 'route',
      decision: { backend: { tags: ['v1'] } },
    });
  });

  it('lint checks files offline: errors exit 2, clean files exit 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-lint-'));
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'rules:\n- destination: reviews\n  route: {backends: [{tags: [v1], weight: 2}]}\n');
    const good = join(dir, 'good.json');
    writeFileSync(
      good,
      JSON.stringify({ rules: [{ destination: 'reviews', route: { backends: [{ tags: ['v1'] }] } }] }),
    );
    const failed = await weft(['lint', '-f', bad], { env: { WEFT_CONTROLLER_URL: 'http://127.0.0.1:9' } });
    expect(failed.code).toBe(2);
    expect(failed.stdout).toMatch(/error\s+.*bad\.yaml\s+rules\[0\]\.route\.backends\[0\]\.weight/);
    const passed = await weft(['lint', '-f', good, '-o', 'json']);
    expect(passed).toMatchObject({ code: 0, stdout: '[]\n' });
  });

  it('info says where each setting came from, never the token', async () => {
    const r = await weft(['info', '-o', 'json'], {
      env: {
        A8_CONTROLLER_URL: 'http://ctl:31200',
        WEFT_REGISTRY_URL: 'http://reg:31300',
        A8_CONTROLLER_TOKEN: 'sekrit-token',
      },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('sekrit');
    expect(JSON.parse(r.stdout)).toEqual({
      controller: { url: 'http://ctl:31200', urlFrom: 'env A8_CONTROLLER_URL', token: true },
      registry: { url: 'http://reg:31300', urlFrom: 'env WEFT_REGISTRY_URL', token: false },
      debug: false,
    });
    const flags = await weft(['info', '--a8-controller-url', 'http://x:1', '-o', 'json'], { env });
    expect(JSON.parse(flags.stdout).controller).toMatchObject({ url: 'http://x:1', urlFrom: '--a8-controller-url' });
  });

  it('status reports health and revision; an unreachable server says what to do (exit 1)', async () => {
    const ok = await weft(['status', '-o', 'json'], { env });
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({
      controller: { health: 'ok' },
      registry: { health: 'ok', services: 1 },
    });

    const down = await weft(['route-list'], { env: { WEFT_CONTROLLER_URL: 'http://127.0.0.1:59998' } });
    expect(down.code).toBe(1);
    expect(down.stderr).toBe(
      'weft route-list: cannot reach the controller at http://127.0.0.1:59998 (ECONNREFUSED): is `weft control-plane` running? set --controller-url or WEFT_CONTROLLER_URL (A8_CONTROLLER_URL)\n',
    );
  });

  it('every operator command has --help with examples and exit codes', async () => {
    const main = await weft(['--help']);
    expect(main.stdout).toMatch(/Operator commands/);
    for (const name of ['route-set', 'action-add', 'rule-get', 'traffic-start', 'explain', 'lint']) {
      const r = await weft([name, '--help']);
      expect(r.code, name).toBe(0);
      expect(r.stdout, name).toMatch(/Examples:\n {2}weft /);
      expect(r.stdout, name).toMatch(/Exit codes: 0 done/);
    }
  });
});
