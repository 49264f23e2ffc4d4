/**
 * The identity settings end to end, as real `weft` processes: a control plane on the operator's
 * CA (`--ca-cert`/`--ca-key`, made with openssl) issuing 3 s certificates, and a sidecar with
 * `--identity-enabled` that gets one for its app's service and renews it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { listeningUrl, startWeft, type WeftProcess } from '../servers-cli/weft-process.js';
import { freePort, health, sidecarUrls, until } from '../sidecar-agent/helpers.js';
import { opensslCa } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-identity-cli-'));
const started: WeftProcess[] = [];
afterAll(async () => {
  for (const p of started) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await Promise.all(started.map((p) => p.exited));
  rmSync(dir, { recursive: true, force: true });
});

it('a sidecar with --identity-enabled gets its service’s certificate from a control plane on the operator’s CA, and renews it', async () => {
  const ca = opensslCa(dir, 'operator');
  const cp = startWeft([
    'control-plane',
    '--port',
    '0',
    '--log-level',
    'warn',
    '--ca-cert',
    ca.certFile,
    '--ca-key',
    ca.keyFile,
    '--identity-cert-ttl',
    '3s',
  ]);
  started.push(cp);
  const url = await listeningUrl(cp);
  const sidecar = startWeft([
    'sidecar',
    '--service-name',
    'reviews',
    '--no-register',
    '--registry-url',
    url,
    '--proxy-port',
    '0',
    '--admin-port',
    '0',
    '--identity-enabled',
    '--log-level',
    'warn',
  ]);
  started.push(sidecar);
  const serials = await until(
    'two certificates for spiffe://weft.local/ns/default/svc/reviews',
    async () => {
      const found = [
        ...sidecar.stderr().matchAll(/identity: spiffe:\/\/weft\.local\/ns\/default\/svc\/reviews certificate (\w+)/g),
      ].map((m) => m[1]);
      return found.length >= 2 ? found : undefined;
    },
    15_000,
  );
  expect(serials[0]).not.toBe(serials[1]); // renewed, not the same certificate again
  // /health tells the identity, its certificate's expiry and when it is renewed (3 s certificates: within 1.5 s).
  const { admin } = await sidecarUrls(sidecar);
  const identity = (await health(admin)).identity as { notAfter: string; renewsInSeconds: number };
  expect(identity).toMatchObject({ spiffeId: 'spiffe://weft.local/ns/default/svc/reviews', expired: false });
  expect(identity).not.toHaveProperty('lastError');
  expect(Date.parse(identity.notAfter) - Date.now()).toBeGreaterThan(0);
  expect(Date.parse(identity.notAfter) - Date.now()).toBeLessThanOrEqual(3_000 + 1_000);
  expect(identity.renewsInSeconds).toBeGreaterThanOrEqual(0);
  expect(identity.renewsInSeconds).toBeLessThanOrEqual(2);
  // No inbound listener asked for: no section.
  expect(await health(admin)).not.toHaveProperty('inbound');
  sidecar.child.kill('SIGTERM');
  expect(await sidecar.exited).toBe(0);

  // A controller that does not answer: no certificate, and /health says why.
  const away = startWeft([
    'sidecar',
    '--service-name',
    'reviews',
    '--no-register',
    '--registry-url',
    `http://127.0.0.1:${await freePort()}`,
    '--proxy-port',
    '0',
    '--admin-port',
    '0',
    '--identity-enabled',
    '--log-level',
    'warn',
  ]);
  started.push(away);
  const failing = await until('the identity’s failure in /health', async () => {
    const section = (await health((await sidecarUrls(away)).admin)).identity as { lastError?: unknown } | undefined;
    return section?.lastError === undefined ? undefined : section;
  });
  expect(failing).toMatchObject({
    spiffeId: null,
    notAfter: null,
    renewsInSeconds: null,
    expired: false,
    lastError: { message: expect.stringMatching(/\S/), at: expect.any(String) },
  });
  away.child.kill('SIGTERM');
  expect(await away.exited).toBe(0);

  // A bad CA file stops the control plane at start, naming the setting.
  const bad = startWeft(['control-plane', '--port', '0', '--ca-cert', ca.keyFile, '--ca-key', ca.keyFile]);
  started.push(bad);
  expect(await bad.exited).not.toBe(0);
  expect(bad.stderr()).toContain('identity.ca.certFile');
  expect(bad.stderr()).toContain('no PEM certificate');
}, 40_000);
