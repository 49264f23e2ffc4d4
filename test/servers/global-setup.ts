/**
 * vitest globalSetup: provisions the real servers the integration tests start (etcd, etcd35,
 * consul, kube-apiserver) by running `.ci/provision-servers.sh` once before any test file. The
 * script caches what it builds (~/.cache/weft-servers) and is a few hash checks when everything is
 * current, so this costs well under a second on a warm machine and builds everything on a fresh
 * one (CI). A failure fails the run loudly: tests that need a server never skip.
 *
 * `WEFT_PROVISION=0` skips the step (local iteration on tests that need no server); tests that do
 * need one then fail with MissingServerBinaryError, naming the command to run.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  if (process.env.WEFT_PROVISION === '0') {
    console.warn('[global-setup] WEFT_PROVISION=0: not provisioning test servers');
    return;
  }
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const started = Date.now();
  const r = spawnSync('bash', [join(root, '.ci', 'provision-servers.sh')], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: process.env,
  });
  if (r.error !== undefined || r.status !== 0) {
    const why = r.error !== undefined ? r.error.message : `exit ${r.status ?? r.signal}`;
    throw new Error(
      `provisioning the test servers failed (${why}); see the [provision-servers] output above. ` +
        'Run `bash .ci/provision-servers.sh` to retry.',
    );
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (Date.now() - started > 5_000) console.log(`[global-setup] test servers provisioned in ${secs}s`);
}
