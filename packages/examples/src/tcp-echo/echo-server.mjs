// A TCP echo server: answers every line it receives with the line, prefixed by its own name, so a
// client can tell which instance answered. Plain node:net — it knows nothing of the mesh.
//
//   node echo-server.mjs <port> <name>
import { createServer } from 'node:net';

const [port, name] = [Number(process.argv[2]), process.argv[3] ?? 'echo'];
if (!Number.isInteger(port) || port <= 0) {
  console.error('usage: node echo-server.mjs <port> <name>');
  process.exit(2);
}

const server = createServer((socket) => {
  socket.setEncoding('utf8');
  let pending = '';
  socket.on('data', (chunk) => {
    pending += chunk;
    for (let nl = pending.indexOf('\n'); nl !== -1; nl = pending.indexOf('\n')) {
      socket.write(`${name}: ${pending.slice(0, nl)}\n`);
      pending = pending.slice(nl + 1);
    }
  });
  socket.on('end', () => socket.end());
  socket.on('error', () => socket.destroy());
});
server.listen(port, '127.0.0.1', () => console.log(`${name} echoing on 127.0.0.1:${port}`));
process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});
