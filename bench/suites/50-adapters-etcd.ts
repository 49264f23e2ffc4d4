/**
 * Propagation latency of the etcd and Weave Flux adapters against a real etcd (Debian's 3.4, with
 * the v2 API on for Weave): from just before a write to the server until Discovery delivers the
 * endpoint set that contains it (and, as `*_from_ack_ms`, from the server's acknowledgement of
 * the write), over 300 changes each, one at a time. Skips with a line saying why when the etcd
 * binary is not provisioned (`bash .ci/provision-servers.sh etcd`).
 */
import { EtcdSource, encodeInstance, instanceKey } from '../../packages/adapters/src/etcd/index.js';
import type { AdapterLogger } from '../../packages/adapters/src/internal/log.js';
import { WeaveSource } from '../../packages/adapters/src/weave/index.js';
import { Discovery, type EndpointSet, instanceId, type ServiceInstance } from '../../packages/core/src/index.js';
import { startEtcd } from '../../test/servers/index.js';
import type { Suite } from '../core.js';
import { type Change, measurePropagation, reportPropagation, startOrSkip } from '../lib/propagation.js';

const CHANGES = 300;
const WARMUP = 20;
const quiet: AdapterLogger = { warn: () => {} };

function instance(i: number): ServiceInstance {
  const host = `10.20.${i >> 8}.${i & 255}`;
  const value = `${host}:8080`;
  return {
    id: instanceId('bench', 'http', value),
    namespace: 'default',
    service: 'bench',
    endpoint: { type: 'http', value, host, port: 8080 },
    tags: ['version=v1'],
    metadata: {},
    status: 'UP',
    ttl: 30,
    registeredAt: 0,
    lastHeartbeat: 0,
  };
}

/** Change i adds instance i; it is seen once the set holds i + 1 instances. */
function changes(write: (i: number) => Promise<void>): Change[] {
  return Array.from({ length: WARMUP + CHANGES }, (_, i) => ({
    write: () => write(i),
    seen: (set: EndpointSet) => set.instances.length >= i + 1,
  }));
}

export const suite: Suite = {
  name: 'adapters-etcd',
  async run(report) {
    const server = await startOrSkip('adapters-etcd', () => startEtcd({ enableV2: true }));
    if (server === undefined) return;
    const { Etcd3 } = await import('etcd3');
    const client = new Etcd3({ hosts: server.endpoint });
    try {
      // etcd: writes as EtcdRegistry lays them out; EtcdSource → Discovery.
      const source = new EtcdSource({ hosts: server.endpoint, logger: quiet });
      const discovery = new Discovery({ sources: [source] });
      await discovery.ready();
      const etcd = await measurePropagation(
        discovery,
        'bench',
        changes(async (i) => {
          const inst = instance(i);
          await client
            .put(instanceKey('/weft', 'default', 'bench', inst.id))
            .value(encodeInstance(inst))
            .exec();
        }),
        WARMUP,
      );
      discovery.close();
      await source.close();
      reportPropagation(report, 'etcd', '<= 20', etcd);

      // Weave Flux: Flux's layout over the v2 API; WeaveSource (long polls) → Discovery.
      const v2put = async (key: string, value: string): Promise<void> => {
        const res = await fetch(`${server.endpoint}/v2/keys${key}`, {
          method: 'PUT',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ value }).toString(),
        });
        await res.arrayBuffer();
        if (res.status >= 300) throw new Error(`PUT ${key}: HTTP ${res.status}`);
      };
      await v2put('/weave-flux/service/bench/spec', JSON.stringify({ address: '10.128.0.9:80', protocol: 'http' }));
      const weave = new WeaveSource({ endpoints: server.endpoint, logger: quiet });
      const wd = new Discovery({ sources: [weave] });
      await wd.ready();
      const flux = await measurePropagation(
        wd,
        'bench',
        changes((i) =>
          v2put(
            `/weave-flux/service/bench/instances/c${i}`,
            JSON.stringify({ host: { address: '192.168.0.1' }, address: instance(i).endpoint.value, labels: {} }),
          ),
        ),
        WARMUP,
      );
      wd.close();
      await weave.close();
      reportPropagation(report, 'weave', '<= 100', flux);
    } finally {
      client.close();
      await server.stop();
    }
  },
};
