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
import { until } from '../sidecar-agent/helpers.js';
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
  sidecar.child.kill('SIGTERM');
  expect(await sidecar.exited).toBe(0);

  // A bad CA file stops the control plane at start, naming the setting.
  const bad = startWeft(['control-plane', '--port', '0', '--ca-cert', ca.keyFile, '--ca-key', ca.keyFile]);
  started.push(bad);
  expect(await bad.exited).not.toBe(0);
  expect(bad.stderr()).toContain('identity.ca.certFile');
  expect(bad.stderr()).toContain('no PEM certificate');
}, 40_000);
