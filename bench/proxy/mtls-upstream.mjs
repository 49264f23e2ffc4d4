// The upstream of the mTLS benchmark (mtls.ts): the same 105-byte JSON answer as upstream.ts, on
// a plain HTTP listener and on a TLS one that requires a client certificate of the benchmark's CA
// (as a sidecar's inbound mTLS listener does). Keep-alive on both.
// `node mtls-upstream.mjs <cert-dir>`; prints `ready <plain-port> <tls-port>`.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { join } from 'node:path';

const certDir = process.argv[2];
const read = (name) => readFileSync(join(certDir, name), 'utf8');
const body = Buffer.from(`${JSON.stringify({ service: 'reviews', version: 'v1', rating: 5, text: 'x'.repeat(44) })}\n`);
const answer = (req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
};
const plain = createServer({ keepAliveTimeout: 65_000, noDelay: true }, answer);
const tls = createTlsServer(
  {
    keepAliveTimeout: 65_000,
    noDelay: true,
    key: read('server.key'),
    cert: read('server.crt'),
    ca: [read('ca.crt')],
    requestCert: true,
    rejectUnauthorized: true,
  },
  answer,
);
const listen = (server) =>
  new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
const [plainPort, tlsPort] = await Promise.all([listen(plain), listen(tls)]);
process.stdout.write(`ready ${plainPort} ${tlsPort}\n`);
process.on('SIGTERM', () => {
  plain.closeAllConnections();
  tls.closeAllConnections();
  process.exit(0);
});
