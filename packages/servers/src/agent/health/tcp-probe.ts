import { connect } from 'node:net';
import { onAbort } from './deadline.js';
import type { HealthCheckSpec } from './types.js';

type TcpSpec = Extract<HealthCheckSpec, { type: 'tcp' }>;

/** Resolves when a TCP connection to host:port is established (then closes it at once). */
export function tcpProbe(spec: TcpSpec, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: spec.host, port: spec.port });
    const unsubscribe = onAbort(signal, (reason) => socket.destroy(reason));
    socket.once('connect', () => {
      unsubscribe();
      socket.destroy();
      resolve();
    });
    socket.once('error', (error) => {
      unsubscribe();
      reject(error);
    });
  });
}
