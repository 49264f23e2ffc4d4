/**
 * `weft sidecar` with `registry.type: consul | etcd`: the app is registered in a real Consul agent
 * or etcd (the ones the test suite provisions) through @weft/adapters' registries, gated by its
 * health check, and the proxy routes from the same store; the rules come from a `weft
 * control-plane`. Read back through the adapters, as another Consul or etcd client would.
 */
import { createServer, type Server } from 'node:http';
import { ConsulRegistry } from '@weft/adapters/consul';
import { EtcdRegistry } from '@weft/adapters/etcd';
import type { Registry } from '@weft/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsul, startEtcd } from '../servers/index.js';
import { listeningUrl, startWeft, type WeftProcess } from '../servers-cli/weft-process.js';
import { get, killAll, sidecarUrls, until, untilRegistration } from './helpers.js';

interface Store {
  url: string;
  reader: Registry;
  stop(): Promise<void>;
}

const stores: Record<'consul' | 'etcd', () => Promise<Store>> = {
  async consul() {
    const server = await startConsul();
    return {
      url: server.httpAddr,
      reader: new ConsulRegistry({ address: server.httpAddr }),
      stop: () => server.stop(),
    };
  },
  async etcd() {
    const server = await startEtcd();
    return { url: server.endpoint, reader: new EtcdRegistry({ hosts: server.endpoint }), stop: () => server.stop() };
  },
};

for (const [type, startStore] of Object.entries(stores)) {
  describe(`weft sidecar with registry.type ${type}`, () => {
    const started: WeftProcess[] = [];
    let store: Store;
    let app: Server;
    let appPort: number;
    let healthy = true;
    let sidecar: { process: WeftProcess; proxy: string; admin: string };

    const instances = async () => store.reader.instances({ service: `${type}-web` });

    beforeAll(async () => {
      store = await startStore();
      app = createServer((req, res) => {
        if (req.url === '/health') res.statusCode = healthy ? 200 : 500;
        res.end(`${type} app saw ${req.url}`);
      });
      await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
      appPort = (app.address() as { port: number }).port;
      const cp = startWeft(['control-plane', '--port', '0', '--log-level', 'warn']);
      started.push(cp);
      const controlPlane = await listeningUrl(cp);
      const process = startWeft([
        'sidecar',
        '--registry-type',
        type,
        '--registry-url',
        store.url,
        '--registry-ttl',
        '10s',
        '--controller-url',
        controlPlane,
        '--service-name',
        `${type}-web`,
        '--service-tags',
        'version=v1',
        '--endpoint-host',
        '127.0.0.1',
        '--endpoint-port',
        String(appPort),
        '--healthchecks',
        `http://127.0.0.1:${appPort}/health`,
        '--health-interval',
        '150ms',
        '--proxy-port',
        '0',
        '--admin-port',
        '0',
        '--log-level',
        'warn',
      ]);
      started.push(process);
      sidecar = { process, ...(await sidecarUrls(process)) };
    }, 120_000);

    afterAll(async () => {
      await killAll(started);
      await new Promise((r) => app?.close(r));
      await store?.reader.close();
      await store?.stop();
    });

    it('registers the app in the store once its health check passes', async () => {
      const [instance] = await until('the app registered', async () => {
        const list = await instances();
        return list.length === 1 ? list : undefined;
      });
      expect(instance).toMatchObject({ endpoint: { value: `127.0.0.1:${appPort}` }, tags: ['version=v1'] });
      await untilRegistration(sidecar.admin, 'registered');
    });

    it("routes to it with the store's endpoints", async () => {
      const body = await until('the proxy to route from the store', async () => {
        const r = await get(`${sidecar.proxy}/${type}-web/hello`);
        return r.status === 200 ? r.body : undefined;
      });
      expect(body).toBe(`${type} app saw /hello`);
    });

    it('deregisters it while unhealthy, and registers it again when healthy', async () => {
      healthy = false;
      await until('the app deregistered', async () => ((await instances()).length === 0 ? true : undefined));
      expect(await untilRegistration(sidecar.admin, 'unregistered')).toMatchObject({ reason: 'unhealthy' });
      healthy = true;
      await until('the app registered again', async () => ((await instances()).length === 1 ? true : undefined));
    });

    it('keeps it registered past its TTL with heartbeats', async () => {
      // TTL 10 s (the stores' minimum), heartbeats every third: one TTL and a bit later it is still there.
      await new Promise((r) => setTimeout(r, 11_000));
      expect(await instances()).toHaveLength(1);
    }, 20_000);

    it('deregisters it on SIGTERM and exits 0', async () => {
      sidecar.process.child.kill('SIGTERM');
      expect(await sidecar.process.exited).toBe(0);
      expect(await instances()).toEqual([]);
    });
  });
}
