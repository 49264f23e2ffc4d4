/** a8ctl 0.3's flags before the command, and the admin auth mode's namespace, as processes. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listeningUrl, startWeft, type WeftProcess } from '../servers-cli/weft-process.js';
import { type ControlPlane, startControlPlane, weft } from './helpers.js';

let cp: ControlPlane;
let admin: WeftProcess;
let adminUrl: string;
const TOKEN = 'operator-secret-token';

beforeAll(async () => {
  cp = await startControlPlane();
  await cp.register('reviews', ['v1'], 9001);
  const dir = mkdtempSync(join(tmpdir(), 'weft-ns-'));
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, TOKEN);
  admin = startWeft([
    'control-plane',
    '--port',
    '0',
    '--log-level',
    'warn',
    '--auth',
    'admin',
    '--auth-admin-token-file',
    tokenFile,
  ]);
  adminUrl = await listeningUrl(admin);
});
afterAll(async () => {
  await cp?.stop();
  admin?.child.kill('SIGTERM');
  await admin?.exited;
});

describe('weft <control-plane flags> <operator command>', () => {
  it("takes the URL flags before the command, in Weft's and a8ctl 0.3's spellings", async () => {
    for (const flag of ['--controller-url', '--a8-controller-url']) {
      const run = await weft([flag, cp.url, '--registry-url', cp.url, 'service-list', '-o', 'json']);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual([expect.objectContaining({ service: 'reviews' })]);
    }
    const inline = await weft([`--a8-registry-url=${cp.url}`, '--debug', 'service-list']);
    expect(inline.code).toBe(0);
    expect(inline.stderr).toMatch(/\[debug\] GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/instances/);
    const info = await weft(['--controller-url', 'http://ctl:31200', 'info', '-o', 'json']);
    expect(JSON.parse(info.stdout)).toMatchObject({
      controller: { url: 'http://ctl:31200', urlFrom: '--controller-url' },
    });
  });

  it('keeps the usage errors: other leading flags, or these before a command that is not an operator one', async () => {
    const unknown = await weft(['--bogus', 'route-list']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown flag --bogus \(a command comes first/);
    const server = await weft(['--controller-url', cp.url, 'control-plane']);
    expect(server.code).toBe(2);
    expect(server.stderr).toMatch(/--controller-url is a flag of the operator commands, not of weft control-plane/);
    const offline = await weft(['--controller-url', cp.url, 'lint', '-f', 'x.yaml']);
    expect(offline.code).toBe(2);
    const alone = await weft(['--controller-url', cp.url]);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toMatch(/needs a command after it/);
    const twice = await weft(['--controller-url', cp.url, 'info', '--controller-url', 'http://other:1']);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(/--controller-url given twice/);
  });
});

describe('--namespace (admin auth mode)', () => {
  const env = (): NodeJS.ProcessEnv => ({
    WEFT_CONTROLLER_URL: adminUrl,
    WEFT_REGISTRY_URL: adminUrl,
    WEFT_CONTROLLER_TOKEN: TOKEN,
    WEFT_REGISTRY_TOKEN: TOKEN,
  });
  const rulesIn = async (namespace: string): Promise<unknown[]> => {
    const res = await fetch(`${adminUrl}/v1/rules`, {
      headers: { authorization: `Bearer ${TOKEN}`, 'a8-namespace': namespace },
    });
    return ((await res.json()) as { rules: unknown[] }).rules;
  };

  it('sends A8-Namespace from --namespace, WEFT_NAMESPACE or A8_NAMESPACE; without it the server refuses (exit 1)', async () => {
    const none = await weft(['rule-get'], { env: env() });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/refused the credentials/);

    const rule = JSON.stringify({
      rules: [{ id: 'r1', destination: 'reviews', route: { backends: [{ tags: ['v1'] }] } }],
    });
    const created = await weft(['rule-create', '-f', '-', '--namespace', 'team-a'], { env: env(), input: rule });
    // The controller's lint warning (no instance of reviews in team-a) is a note, not a failure.
    expect(created.stderr).toMatch(/^warning: rule r1 .*no instance of "reviews"/);
    expect(created.code).toBe(0);
    expect(await rulesIn('team-a')).toHaveLength(1);
    expect(await rulesIn('team-b')).toHaveLength(0);

    for (const variable of ['WEFT_NAMESPACE', 'A8_NAMESPACE']) {
      const got = await weft(['rule-get', '-o', 'json'], { env: { ...env(), [variable]: 'team-a' } });
      expect(got.code).toBe(0);
      expect(JSON.parse(got.stdout)).toMatchObject({ rules: [{ id: 'r1' }] });
    }
    const other = await weft(['--namespace', 'team-b', 'rule-get', '-o', 'json'], { env: env() });
    expect(JSON.parse(other.stdout)).toMatchObject({ rules: [] });

    const info = await weft(['info', '-o', 'json'], { env: { ...env(), A8_NAMESPACE: 'team-a' } });
    expect(JSON.parse(info.stdout)).toMatchObject({
      namespace: { name: 'team-a', from: 'env A8_NAMESPACE', header: 'A8-Namespace' },
    });
  });
});
