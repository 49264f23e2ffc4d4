/**
 * The benchmark's upstream: a node:http server answering every request with the same 105-byte
 * JSON body, keep-alive on. `node bench/proxy/upstream.ts <port>`; prints `ready <port>`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const body = Buffer.from(`${JSON.stringify({ service: 'reviews', version: 'v1', rating: 5, text: 'x'.repeat(44) })}\n`);
const port = Number(process.argv[2] ?? 0);

const server = createServer({ keepAliveTimeout: 65_000, noDelay: true }, (req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
});
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${(server.address() as AddressInfo).port} ${body.length}\n`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
