import { describe, expect, it } from 'vitest';
import { configFixture } from './config-fixture.js';
import { RegistryConfigSchema } from './schemas.js';

const { load, problems } = configFixture('registry', RegistryConfigSchema, 'weft-mirrors-config-');

describe('registry.mirrors', () => {
  it('has none by default', async () => {
    expect((await load([])).config.registry.mirrors).toEqual([]);
  });

  it('reads mappings from the file', async () => {
    const { config } = await load(
      [],
      {},
      [
        'registry:',
        '  mirrors:',
        '    - namespace: team-a',
        '      services: [payments]',
        '      source: {type: consul, address: "http://127.0.0.1:8500", waitSeconds: 10}',
        '    - name: external',
        '      source: {type: file, path: ./external.yaml}',
      ].join('\n'),
    );
    expect(config.registry.mirrors).toEqual([
      {
        namespace: 'team-a',
        services: ['payments'],
        source: { type: 'consul', address: 'http://127.0.0.1:8500', waitSeconds: 10 },
      },
      { name: 'external', source: { type: 'file', path: './external.yaml' } },
    ]);
  });

  it('takes the short form from a flag or the environment', async () => {
    const flags = await load(['--registry-mirrors', 'team-a=consul:http://127.0.0.1:8500,file:./ext.yaml']);
    expect(flags.config.registry.mirrors).toEqual([
      { namespace: 'team-a', source: { type: 'consul', address: 'http://127.0.0.1:8500' } },
      { source: { type: 'file', path: './ext.yaml' } },
    ]);
    const env = await load([], { WEFT_REGISTRY_MIRRORS: 'etcd:http://a:2379+http://b:2379' });
    expect(env.config.registry.mirrors).toEqual([
      { source: { type: 'etcd', hosts: ['http://a:2379', 'http://b:2379'] } },
    ]);
  });

  it('names the field of every problem', async () => {
    const found = await problems(
      [],
      {},
      [
        'registry:',
        '  mirrors:',
        '    - source: {type: zookeeper}',
        '    - source: {type: file}',
        '    - source: {type: consul, waitSeconds: 0, colour: red}',
      ].join('\n'),
    );
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^registry\.mirrors\[0\]\.source\.type = "zookeeper" \(from .*\): must be one of consul, etcd, kubernetes, weave, file$/,
        ),
        expect.stringMatching(/^registry\.mirrors\[1\]\.source\.path \(from .*\): must be a string$/),
        expect.stringMatching(/^registry\.mirrors\[2\]\.source\.waitSeconds = 0 .*must be ≥ 1$/),
        expect.stringMatching(/^registry\.mirrors\[2\]\.source\.colour .*unknown setting/),
      ]),
    );
    // Names are checked once every mirror is valid: they name the mirror in errors and /health.
    expect(
      await problems(
        [],
        {},
        'registry:\n  mirrors:\n    - {namespace: x, source: {type: file, path: a}}\n    - {namespace: x, source: {type: file, path: b}}\n',
      ),
    ).toEqual([
      expect.stringMatching(
        /^registry\.mirrors\[1\]\.name .*duplicates mirror "file:x"; give each mirror its own name$/,
      ),
    ]);
    expect(await problems(['--registry-mirrors', 'nonsense'])).toEqual([
      expect.stringMatching(/^registry\.mirrors\[0\] .*must be a mapping .* or \[<namespace>=\]<type>:<target>/),
    ]);
  });
});
