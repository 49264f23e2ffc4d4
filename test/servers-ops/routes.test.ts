/** a8ctl's routing commands as an Amalgam8 user types them, against a real control plane. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { against, type ControlPlane, startControlPlane, storedRules, weft } from './helpers.js';

let cp: ControlPlane;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  cp = await startControlPlane();
  env = against(cp.url);
  // Amalgam8's convention (bare tags) for ratings, Weft's (version=…) for reviews: both must work.
  await cp.register('reviews', ['version=v1'], 9001);
  await cp.register('reviews', ['version=v1'], 9002);
  await cp.register('reviews', ['version=v2'], 9003);
  await cp.register('reviews', ['version=v3'], 9004);
  await cp.register('ratings', ['v1'], 9101);
  await cp.register('ratings', ['v2'], 9102);
});
afterAll(() => cp?.stop());

describe('weft operator commands: routing', () => {
  it('service-list counts instances per version (table and JSON)', async () => {
    const table = await weft(['service-list'], { env });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^SERVICE\s+INSTANCES/);
    expect(table.stdout).toMatch(/reviews\s+version=v1\(2\), version=v2\(1\), version=v3\(1\)/);
    const json = await weft(['service-list', '--json'], { env });
    expect(JSON.parse(json.stdout)).toContainEqual(
      expect.objectContaining({ service: 'ratings', instances: ['v1(1)', 'v2(1)'] }),
    );
  });

  it("route-set takes a8ctl's selectors and route-list shows them back", async () => {
    const set = await weft(
      [
        'route-set',
        'reviews',
        '--default',
        'v1',
        '--selector',
        'v2(weight=0.25)',
        '--selector',
        'v2(user="jason")',
        '--selector',
        'v3(header="Foo:bar")',
      ],
      { env },
    );
    expect(set.stderr).toBe('');
    expect(set.code).toBe(0);
    expect(set.stdout).toBe('Set routing rules for microservice reviews\n');

    const rules = await storedRules(cp.url, 'reviews');
    expect(rules).toHaveLength(3);
    // Bare v1 resolved to the tag the instances carry; jason by his cookie; the header as a regex.
    expect(rules).toContainEqual(
      expect.objectContaining({
        priority: 1,
        route: { backends: [{ tags: ['version=v2'], weight: 0.25 }, { tags: ['version=v1'] }] },
      }),
    );
    expect(rules).toContainEqual(
      expect.objectContaining({ priority: 3, match: { cookies: { user: { exact: 'jason' } } } }),
    );
    expect(rules).toContainEqual(expect.objectContaining({ priority: 2, match: { headers: { Foo: 'bar' } } }));

    const list = await weft(['route-list', '-o', 'json'], { env });
    expect(JSON.parse(list.stdout)).toContainEqual({
      service: 'reviews',
      default: 'version=v1',
      selectors: ['version=v2(user="jason")', 'version=v3(header="Foo:bar")', 'version=v2(weight=0.25)'],
    });
    const table = await weft(['route-list'], { env });
    expect(table.stdout).toMatch(/reviews\s+version=v1\s+version=v2\(user="jason"\)/);
    expect(table.stdout).toMatch(/ratings\n|ratings\s*$/m);
  });

  it('route-set with bare tags and --source for Amalgam8-tagged instances', async () => {
    const set = await weft(
      ['route-set', 'ratings', '--default', 'v1', '--source', 'reviews:v2', '--selector', 'v2(weight=0.5)'],
      { env },
    );
    expect(set.code).toBe(0);
    const rules = await storedRules(cp.url, 'ratings');
    expect(rules).toContainEqual(
      expect.objectContaining({
        priority: 2,
        match: { source: { name: 'reviews', tags: ['version=v2'] } },
        route: { backends: [{ tags: ['v2'], weight: 0.5 }, { tags: ['v1'] }] },
      }),
    );
    expect(rules).toContainEqual(expect.objectContaining({ priority: 1, route: { backends: [{ tags: ['v1'] }] } }));
  });

  it('route-delete removes the rules, and twice is not an error', async () => {
    await weft(['route-set', 'details', '--default', 'v1'], { env });
    const first = await weft(['route-delete', 'details'], { env });
    expect(first).toMatchObject({ code: 0, stdout: 'Deleted routing rules for microservice details\n' });
    expect(await storedRules(cp.url, 'details')).toEqual([]);
    const again = await weft(['route-delete', 'details'], { env });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('had no routing rules');
  });

  it('bad selectors and missing arguments are usage errors (exit 2) that name the mistake', async () => {
    const cases: [string[], RegExp][] = [
      [['route-set', 'reviews', '--selector', 'v2(weight=0.5)'], /--default <version> is required/],
      [['route-set', 'reviews', '--default', 'v1', '--selector', 'v2(wait=1)'], /unknown condition 'wait'/],
      [['route-set', 'reviews', '--default', 'v1', '--selector', 'v2'], /is not version\(condition\)/],
      [
        ['route-set', 'reviews', '--default', 'v1', '--selector', 'v2(weight=1.5)'],
        /weight must be a number between 0 and 1/,
      ],
      [['route-set', '--default', 'v1'], /which service\?/],
      [['route-list', '--sevice', 'x'], /unknown flag --sevice \(did you mean --service\?\)/],
      [['route-list', '-o', 'xml'], /--output must be one of table, json, yaml/],
    ];
    for (const [args, message] of cases) {
      const r = await weft(args, { env });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
  });
});
