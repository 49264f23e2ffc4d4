// The floor under any Node proxy: a TCP forwarder with no HTTP at all, each client connection
// piped to its own upstream connection (no parsing, no pooling, no headers). Its user-space CPU
// per request, under the same load as the sidecar, is what Node's event loop and socket layer
// cost before a proxy does any work of its own (packages/proxy/README.md, "Performance").
//
//   taskset -c 1 node bench/proxy/upstream.ts 0            # prints `ready <port> <pid>`
//   taskset -c 0 node --max-semi-space-size=2 --no-concurrent-recompilation bench/proxy/pipe.mjs <upstream-port>
//   taskset -c 1 wrk -t1 -c50 -d5s http://127.0.0.1:<port>/api/v1/reviews/1
// and read utime / stime of its pid from /proc/<pid>/stat before and after. Prints `ready <port> <pid>`.
import net from 'node:net';

const upstreamPort = Number(process.argv[2]);
const server = net.createServer({ noDelay: true }, (client) => {
  const upstream = net.connect({ port: upstreamPort, host: '127.0.0.1', noDelay: true });
  client.on('data', (chunk) => upstream.write(chunk));
  upstream.on('data', (chunk) => client.write(chunk));
  client.on('close', () => upstream.destroy());
  upstream.on('close', () => client.destroy());
  client.on('error', () => {});
  upstream.on('error', () => {});
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`ready ${server.address().port} ${process.pid}\n`);
});
