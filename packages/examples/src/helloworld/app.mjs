// helloworld: answers every request with its version (VERSION) on 127.0.0.1:PORT. Plain
// JavaScript with no dependency, like an app in any language that a weft sidecar runs.
import { createServer } from 'node:http';

const version = process.env.VERSION ?? 'v1';
const port = Number(process.env.PORT);

const server = createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  if (req.url === '/health') return res.end('{"status":"ok"}');
  res.end(JSON.stringify({ service: 'helloworld', version, message: `Hello version: ${version}` }));
});
server.listen(port, '127.0.0.1');

// The sidecar stops its app with SIGTERM: close the listener and the gateway's idle connections.
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
