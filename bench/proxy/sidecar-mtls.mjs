// The sidecar of the mTLS benchmark (mtls.ts): `@weft/proxy/sidecar` with the access log off and
// one `reviews` instance, reached either in plaintext or, with `mtls`, over mTLS (the instance
// announces `weft_mtls`, the sidecar presents a certificate of the benchmark's CA).
// `node sidecar-mtls.mjs <upstream-port> plain|mtls <cert-dir>`; prints `ready <port> <pid>`.
// Plain JavaScript, bundled by mtls.ts with esbuild as a sidecar would be shipped.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Discovery, ManualSource } from '@weft/core';
import * as proxy from '@weft/proxy/sidecar';
import { reviewsInstance } from './instance.mjs';

const [portArg, mode, certDir] = process.argv.slice(2);
const mtls = mode === 'mtls';
const read = (name) => readFileSync(join(certDir, name), 'utf8');
const instance = reviewsInstance(Number(portArg));
if (mtls) instance.metadata = { [proxy.MTLS_METADATA_KEY]: 'spiffe://weft.bench/ns/default/svc/reviews' };
const discovery = new Discovery({ sources: [new ManualSource('bench', [instance])] });

/** Credentials from files, never rotated (a WorkloadIdentity in production). */
const credentials = {
  tlsOptions: () => ({ key: read('client.key'), cert: read('client.crt'), ca: [read('ca.crt')] }),
  on() {},
  off() {},
};

const sidecar = new proxy.Sidecar({
  discovery,
  identity: { name: 'bench' },
  port: 0,
  admin: false,
  accessLog: false,
  ...(mtls ? { mtls: { credentials } } : {}),
});
const { port } = await sidecar.listen();
process.stdout.write(`ready ${port} ${process.pid}\n`);
process.on('SIGTERM', () => {
  void sidecar.close().then(() => process.exit(0));
});
