// An upstream that streams N bytes (argv[3], default 200 MB) per request from one reused 64 KiB
// buffer, with backpressure, so its own memory stays flat. `node stream-upstream.mjs <port> [bytes]`;
// prints `ready <port>`.
import { createServer } from 'node:http';

const total = Number(process.argv[3] ?? 200 * 1024 * 1024);
const piece = Buffer.alloc(64 * 1024, 120);

const server = createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total });
  let sent = 0;
  const pump = () => {
    while (sent < total) {
      const n = Math.min(piece.length, total - sent);
      sent += n;
      if (!res.write(n === piece.length ? piece : piece.subarray(0, n))) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
});
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stdout.write(`ready ${server.address().port}\n`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
