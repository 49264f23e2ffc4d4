// The Node client of the TCP echo example. It knows one thing about the echo service: the local
// port its sidecar exposes it on (127.0.0.1 only; there is no way to give it a host). Each round
// it opens a connection, sends a line, prints the reply, and closes — so every round is a new
// connection the sidecar balances over the echo instances Consul lists.
//
//   node client.mjs <local port>
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const port = Number(process.argv[2]);
if (process.argv.length !== 3 || !/^\d+$/.test(process.argv[2] ?? '') || port <= 0 || port > 65535) {
  console.error('usage: node client.mjs <local port> — the port of this client’s sidecar, on 127.0.0.1');
  process.exit(2);
}

/** One round: connect, send, read one line. Rejects when the connection ends without a reply. */
function round(n) {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setEncoding('utf8');
    socket.setTimeout(5000, () => socket.destroy(new Error('no reply within 5 s')));
    let reply = '';
    socket.on('connect', () => socket.write(`hello ${n} from node\n`));
    socket.on('data', (chunk) => {
      reply += chunk;
      const nl = reply.indexOf('\n');
      if (nl !== -1) {
        socket.end();
        resolve(reply.slice(0, nl));
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error('closed without a reply')));
  });
}

let stopping = false;
process.on('SIGTERM', () => {
  stopping = true;
});
for (let n = 1; !stopping; n++) {
  try {
    console.log(`node #${n} -> ${await round(n)}`);
  } catch (err) {
    // The sidecar closes a connection it has no echo instance for (yet): try again shortly.
    console.log(`node #${n} !! ${err.message}`);
  }
  await sleep(100);
}
