/**
 * Consul adapter: propagation latency from a registration or deregistration on a real Consul
 * agent (`consul agent -dev`) to the Discovery snapshot, through ConsulSource's blocking queries.
 * Skipped, with a line saying why, when the consul binary is not provisioned.
 */
import { ConsulSource } from '../../packages/adapters/src/consul/index.js';
import { Discovery, type EndpointSet } from '../../packages/core/src/index.js';
import { http, startConsul } from '../../test/servers/index.js';
import type { Suite } from '../core.js';
import { type Change, measurePropagation, reportPropagation, startOrSkip } from '../lib/propagation.js';

const CHANGES = 240;
const WARMUP = 20;
const SERVICE = 'bench-consul';

export const suite: Suite = {
  name: 'adapters-consul',
  async run(report) {
    const consul = await startOrSkip('adapters-consul', () => startConsul());
    if (consul === undefined) return;
    const source = new ConsulSource({ address: consul.httpAddr, services: [SERVICE], waitSeconds: 60 });
    const discovery = new Discovery({ sources: [source] });
    try {
      await discovery.ready(30_000);
      const put = async (path: string, body?: unknown): Promise<void> => {
        const res = await http(`${consul.httpAddr}${path}`, { method: 'PUT', ...(body === undefined ? {} : { body }) });
        if (res.status !== 200) throw new Error(`PUT ${path} -> ${res.status} ${res.body}`);
      };
      // Alternately add instance k and remove it again: every change is a membership change.
      const changes: Change[] = [];
      for (let c = 0; c < CHANGES + WARMUP; c++) {
        const k = c >> 1;
        const host = `10.${(k >> 8) & 255}.${k & 255}.1`;
        const has = (set: EndpointSet) => set.instances.some((i) => i.endpoint.host === host);
        changes.push(
          c % 2 === 0
            ? {
                write: () => put('/v1/agent/service/register', { ID: `b${k}`, Name: SERVICE, Address: host, Port: 80 }),
                seen: has,
              }
            : { write: () => put(`/v1/agent/service/deregister/b${k}`), seen: (set) => !has(set) },
        );
      }
      const result = await measurePropagation(discovery, SERVICE, changes, WARMUP);
      reportPropagation(report, 'consul', '<= 100', result);
    } finally {
      discovery.close();
      source.close();
      await consul.stop();
    }
  },
};
