// Reference point for the sidecar: the smallest node:http → undici Pool forwarder (no routing,
// no rules, no retries, no telemetry), `data`/`end` style as BENCHMARKS.md measured it.
// `node bench/proxy/minimal.mjs <upstream-port>`; prints `ready <port> <pid>`.
import { createServer } from 'node:http';
import { Pool } from 'undici';

const pool = new Pool(`http://127.0.0.1:${process.argv[2]}`);
const server = createServer({ keepAliveTimeout: 65_000, noDelay: true }, (req, res) => {
  const path = req.url.startsWith('/reviews/') ? req.url.slice(8) : req.url;
  pool.dispatch(
    { method: req.method, path, headers: { 'x-forwarded-for': req.socket.remoteAddress }, body: null },
    {
      onRequestStart() {},
      onResponseStart(_controller, status, headers) {
        res.writeHead(status, headers);
      },
      onResponseData(controller, chunk) {
        if (!res.write(chunk)) {
          controller.pause();
          res.once('drain', () => controller.resume());
        }
      },
      onResponseEnd() {
        res.end();
      },
      onResponseError(_c, err) {
        if (!res.headersSent) res.writeHead(502);
        res.end(String(err));
      },
    },
  );
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`ready ${server.address().port} ${process.pid}\n`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
