/**
 * A registry server in its own process, for the crash test (durability.test.ts): serves the
 * snapshot file given as the first argument, with a debounce of an hour so that only the flush
 * before each acknowledgement can have written anything, and prints its port.
 */
import { createRegistryServer } from '../../packages/servers/src/index.js';

const path = process.argv[2];
if (path === undefined) throw new Error('usage: crash-child.ts <snapshot file>');
const server = await createRegistryServer({ store: { type: 'file', path, debounceMs: 3_600_000 } });
await server.listen({ host: '127.0.0.1', port: 0 });
const address = server.server.address();
process.stdout.write(`PORT ${typeof address === 'object' && address !== null ? address.port : 0}\n`);
