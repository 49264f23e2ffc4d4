/** The authorization commands, as processes against a real control plane. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { against, type ControlPlane, startControlPlane, weft } from './helpers.js';

let cp: ControlPlane;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  cp = await startControlPlane();
  env = against(cp.url);
});
afterAll(() => cp?.stop());

const policiesYaml = `
defaultAction: deny
policies:
  - id: block-lab
    destination: '*'
    action: deny
    from: [{ ipBlocks: [10.0.0.0/8] }]
  - id: productpage-reads
    destination: reviews
    action: allow
    from: [{ services: [productpage] }]
    to: [{ methods: [GET] }]
`;

describe('weft authz commands', () => {
  it('authz-set takes YAML on standard input; authz-get shows it as a table and gives it back as YAML', async () => {
    const set = await weft(['authz-set'], { env, input: policiesYaml });
    expect(set.stderr).toBe('');
    expect(set.code).toBe(0);
    expect(set.stdout).toMatch(/^Authorization policies set \(revision \d+\)/);
    const table = await weft(['authz-get'], { env });
    expect(table.stdout).toMatch(/^Default action: deny/);
    expect(table.stdout).toMatch(/block-lab\s+\*\s+deny\s+ipBlocks=10\.0\.0\.0\/8\s+any/);
    expect(table.stdout).toMatch(/productpage-reads\s+reviews\s+allow\s+services=productpage\s+methods=GET/);
    const yaml = await weft(['authz-get', '-o', 'yaml'], { env });
    // What authz-get prints, authz-set takes back unchanged (its revision is ignored).
    const again = await weft(['authz-set'], { env, input: yaml.stdout });
    expect(again.code).toBe(0);
  });

  it('authz-explain gives the verdict and each policy’s first failed condition', async () => {
    await weft(['authz-set'], { env, input: policiesYaml });
    const allowed = await weft(
      ['authz-explain', 'reviews', '--identity', 'spiffe://weft.local/ns/default/svc/productpage', '--ip', '127.0.0.1'],
      { env },
    );
    expect(allowed.stdout).toContain('ALLOWED: allowed by policy "productpage-reads"');
    const denied = await weft(['authz-explain', 'reviews', '--ip', '10.1.2.3', '-X', 'GET'], { env });
    expect(denied.stdout).toContain('DENIED: denied by policy "block-lab"');
    const write = await weft(
      ['authz-explain', 'reviews', '--identity', 'spiffe://weft.local/ns/default/svc/productpage', '-X', 'POST'],
      { env },
    );
    expect(write.stdout).toContain('✗ allow productpage-reads: method POST is not one of GET');
  });

  it('refuses invalid policies with every bad field named (exit 2), and a stale --if-revision (exit 4)', async () => {
    const bad = await weft(['authz-set'], {
      env,
      input:
        '{"policies":[{"id":"x","destination":"reviews","action":"permit","from":[{"ipBlocks":["10.0.0.0/99"]}]}]}',
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('policies[0].action');
    expect(bad.stderr).toContain('policies[0].from[0].ipBlocks[0]');
    const stale = await weft(['authz-set', '--if-revision', '0'], { env, input: policiesYaml });
    expect(stale.code).toBe(4);
  });

  it('authz-clear removes them', async () => {
    await weft(['authz-set'], { env, input: policiesYaml });
    expect((await weft(['authz-clear'], { env })).stdout).toMatch(/^Authorization policies removed/);
    const after = await weft(['authz-get', '-o', 'json'], { env });
    expect(JSON.parse(after.stdout)).toMatchObject({ defaultAction: 'allow', policies: [] });
  });
});
