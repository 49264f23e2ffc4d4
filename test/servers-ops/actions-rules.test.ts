/** Action rules and the rules DSL commands, as processes against a real control plane. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { against, type ControlPlane, startControlPlane, storedRules, weft } from './helpers.js';

let cp: ControlPlane;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  cp = await startControlPlane();
  env = against(cp.url);
  await cp.register('ratings', ['version=v1'], 9101);
  await cp.register('ratings', ['version=v2'], 9102);
  await cp.register('reviews', ['version=v2'], 9002);
});
afterAll(() => cp?.stop());

describe('weft operator commands: actions and rules', () => {
  it("action-add takes a8ctl's flags; action-list shows the rule in the same syntax; action-clear removes it", async () => {
    const add = await weft(
      [
        'action-add',
        '--source',
        'reviews:v2',
        '--destination',
        'ratings',
        '--cookie',
        'user=jason',
        '--action',
        'v1(1->delay=7)',
        '--action',
        'v2(0.5->abort=400)',
      ],
      { env },
    );
    expect(add.code).toBe(0);
    expect(add.stdout).toMatch(/^Set action rule for destination ratings/);
    const [rule] = await storedRules(cp.url, 'ratings');
    expect(rule).toMatchObject({
      destination: 'ratings',
      priority: 10,
      match: { source: { name: 'reviews', tags: ['version=v2'] }, cookies: { user: { exact: 'jason' } } },
      actions: [
        { action: 'delay', probability: 1, duration: 7, tags: ['version=v1'] },
        { action: 'abort', probability: 0.5, return_code: 400, tags: ['version=v2'] },
      ],
    });

    // A second rule goes 10 above.
    await weft(['action-add', '--destination', 'ratings', '--header', 'X-Test:yes', '--action', '*(1->abort=503)'], {
      env,
    });
    const list = await weft(['action-list', '-o', 'json'], { env });
    expect(JSON.parse(list.stdout)).toEqual([
      expect.objectContaining({ priority: 20, match: ['header="X-Test:yes"'], actions: ['*(1->abort=503)'] }),
      expect.objectContaining({
        priority: 10,
        match: ['source=reviews:version=v2', 'user="jason"'],
        actions: ['version=v1(1->delay=7)', 'version=v2(0.5->abort=400)'],
      }),
    ]);
    const table = await weft(['action-list'], { env });
    expect(table.stdout).toMatch(/ratings\s+source=reviews:version=v2, user="jason"\s+10\s+version=v1\(1->delay=7\)/);

    const clear = await weft(['action-clear', 'ratings'], { env });
    expect(clear).toMatchObject({ code: 0, stdout: 'Cleared action rules for microservice ratings\n' });
    expect(await storedRules(cp.url, 'ratings')).toEqual([]);
  });

  it('action-add refuses a rule that would act on every request, and bad actions (exit 2)', async () => {
    const open = await weft(['action-add', '--destination', 'ratings', '--action', 'v1(1->delay=7)'], { env });
    expect(open.code).toBe(2);
    expect(open.stderr).toMatch(/at least one --source, --header or --cookie/);
    const bad = await weft(
      ['action-add', '--destination', 'ratings', '--cookie', 'u=j', '--action', 'v1(2->delay=7)'],
      { env },
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/probability must be between 0 and 1/);
  });

  it('rule-create from a YAML file on stdin, rule-get by tag, rule-update, rule-delete', async () => {
    const yaml = [
      'rules:',
      '  - id: reviews-default',
      '    destination: reviews',
      '    tags: [ops-test]',
      '    route: {backends: [{tags: [version=v2]}]}',
      '',
    ].join('\n');
    const create = await weft(['rule-create', '-f', '-'], { env, input: yaml });
    expect(create).toMatchObject({ code: 0, stdout: 'Created 1 rule: reviews-default\n' });

    const again = await weft(['rule-create'], { env, input: yaml });
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(/conflict/);

    const get = await weft(['rule-get', '-t', 'ops-test'], { env });
    expect(get.code).toBe(0);
    const got = JSON.parse(get.stdout) as { rules: { id: string; priority?: number }[]; revision: number };
    expect(got.rules.map((r) => r.id)).toEqual(['reviews-default']);
    expect(typeof got.revision).toBe('number');

    const asYaml = await weft(['rule-get', '-i', 'reviews-default', '-o', 'yaml'], { env });
    const edited = asYaml.stdout.replace('destination: reviews', 'destination: reviews\n    priority: 7');
    const update = await weft(['rule-update', '-f', '-'], { env, input: edited });
    expect(update).toMatchObject({ code: 0, stdout: 'Updated 1 rule: reviews-default\n' });
    expect(await storedRules(cp.url, 'reviews')).toEqual([
      expect.objectContaining({ id: 'reviews-default', priority: 7 }),
    ]);

    const table = await weft(['rule-get', '-o', 'table'], { env });
    expect(table.stdout).toMatch(/reviews-default\s+reviews\s+route\s+7\s+version=v2\s+ops-test/);

    const del = await weft(['rule-delete', 'reviews-default'], { env });
    expect(del).toMatchObject({ code: 0, stdout: 'Deleted 1 rule: reviews-default\n' });
    const missing = await weft(['rule-get', '-i', 'reviews-default'], { env });
    expect(missing.code).toBe(3);
    expect((await weft(['rule-delete', '-i', 'reviews-default'], { env })).code).toBe(3);
  });

  it('invalid rules are refused with every problem named (exit 2), and rule-delete needs a filter or --all', async () => {
    const bad = await weft(['rule-create'], {
      env,
      input: '{"rules":[{"destination":"x","route":{"backends":[{"weight":2}]}}]}',
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/rules\[0\]\.route\.backends\[0\]\.weight: must be between 0 and 1/);
    const notFile = await weft(['rule-create', '-f', 'no-such-file.yaml'], { env });
    expect(notFile.code).toBe(2);
    expect(notFile.stderr).toMatch(/cannot read no-such-file.yaml: no such file/);
    const unfiltered = await weft(['rule-delete'], { env });
    expect(unfiltered.code).toBe(2);
    expect(unfiltered.stderr).toMatch(/--all for every rule/);
  });
});
