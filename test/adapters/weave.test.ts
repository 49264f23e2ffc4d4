/**
 * The Weave Flux source against a real etcd 3.4 serving the v2 keys API (`--enable-v2=true`),
 * started for this file: the conformance kit (through a TCP proxy for the cut), then Flux
 * specifics — sessions and their expiry, the v0.2 layout, bad values, a restart mid-watch, and
 * etcd's EventIndexCleared.
 */

import {
  describeSourceConformance,
  hasRecord,
  lacksRecord,
  record,
  SnapshotRecorder,
  type TestRecord,
} from '@weft/adapters/testkit';
import { V2Client, WeaveSource } from '@weft/adapters/weave';
import { Discovery, VirtualClock } from '@weft/core';
import * as vitest from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EtcdServer, http, startEtcd, TcpCutProxy, waitFor } from '../servers/index.js';
import { RecordingLogger, retrying } from './etcd-helpers.js';
import { expectOneFailureStreak } from './recording-logger.js';

const ROOT = '/weave-flux';
const FAST = { pollTimeoutMs: 10_000, probeIntervalMs: 1_000, requestTimeoutMs: 2_000 } as const;

/** Writes Flux's layout over the v2 API, straight to the server. */
class FluxWriter {
  private bad = 0;
  constructor(readonly endpoint: string) {}

  async put(key: string, value: string, params: Record<string, string> = {}): Promise<void> {
    const body = new URLSearchParams({ value, ...params }).toString();
    await retrying(async () => {
      const res = await http(`${this.endpoint}/v2/keys${key}`, {
        method: 'PUT',
        body,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      if (res.status !== 200 && res.status !== 201) throw new Error(`PUT ${key}: HTTP ${res.status} ${res.body}`);
    });
  }

  async del(key: string, recursive = false): Promise<void> {
    await retrying(async () => {
      const res = await http(`${this.endpoint}/v2/keys${key}${recursive ? '?recursive=true' : ''}`, {
        method: 'DELETE',
      });
      if (res.status !== 200 && res.status !== 404) throw new Error(`DELETE ${key}: HTTP ${res.status} ${res.body}`);
    });
  }

  spec(service: string, protocol = 'http'): Promise<void> {
    return this.put(
      `${ROOT}/service/${service}/spec`,
      JSON.stringify({ address: '10.128.0.1:80', instancePort: 8080, protocol }),
    );
  }

  session(id: string, ttlSeconds: number): Promise<void> {
    return this.put(`${ROOT}/session/${id}`, '', { ttl: String(ttlSeconds) });
  }

  instance(r: TestRecord, session: string | undefined): Promise<void> {
    const labels = Object.fromEntries(r.tags.map((t) => t.split('=') as [string, string]));
    return this.put(
      `${ROOT}/service/${r.service}/instances/${r.name}`,
      JSON.stringify({
        host: { address: '192.168.99.1' },
        containerRule: 'default',
        address: `${r.host}:${r.port}`,
        labels,
        ...(session === undefined ? {} : { Session: session }),
      }),
    );
  }

  async writeBad(service: string): Promise<{ key: string }> {
    this.bad++;
    const key = `${ROOT}/service/${service}/instances/bad${this.bad}`;
    await this.put(key, '{"address": "10.1.1.1:80", oops');
    return { key };
  }
}

let sessions = 0;

describe('Weave Flux source on etcd 3.4 (v2 API)', () => {
  let server: EtcdServer;
  let flux: FluxWriter;

  describeSourceConformance(
    vitest,
    'WeaveSource',
    {
      async setup() {
        server = await startEtcd({ enableV2: true });
        flux = new FluxWriter(server.endpoint);
      },
      async teardown() {
        await server?.stop();
      },
      async create() {
        const proxy = await TcpCutProxy.start({ targetPort: server.clientPort });
        const logger = new RecordingLogger();
        const source = new WeaveSource({ endpoints: proxy.url(), logger, ...FAST });
        const session = `kit-session-${++sessions}`;
        await flux.session(session, 600);
        const specs = new Set<string>();
        return {
          source,
          async upsert(r) {
            if (!specs.has(r.service)) {
              specs.add(r.service);
              await flux.spec(r.service);
            }
            await flux.instance(r, session);
          },
          remove: (r) => flux.del(`${ROOT}/service/${r.service}/instances/${r.name}`),
          restartServer: () => server.restart(),
          async disconnect() {
            proxy.refuse(true);
            proxy.cut();
            return async () => proxy.refuse(false);
          },
          writeBadRecord: (service) => flux.writeBad(service),
          warnings: () => logger.warnings,
          async close() {
            await source.close();
            await proxy.close();
          },
        };
      },
      features: { disconnect: true, badRecords: true },
    },
    { changeBoundMs: 5_000, recoveryBoundMs: 20_000 },
  );

  describe('Flux specifics', () => {
    let own: EtcdServer;
    let writer: FluxWriter;
    const closers: Array<() => Promise<void> | void> = [];
    beforeAll(async () => {
      own = await startEtcd({ enableV2: true });
      writer = new FluxWriter(own.endpoint);
    });
    afterAll(async () => {
      for (const c of closers.reverse()) await c();
      await own?.stop();
    });
    function source(extra: Partial<ConstructorParameters<typeof WeaveSource>[0]> = {}) {
      const logger = new RecordingLogger();
      const s = new WeaveSource({ endpoints: own.endpoint, logger, ...FAST, ...extra });
      closers.push(() => s.close());
      return { source: s, logger };
    }

    it('maps spec, instance and labels: protocol to the endpoint type, labels to key=value tags, flux fields to metadata', async () => {
      await writer.spec('productpage', 'http');
      await writer.spec('ratings', 'tcp');
      await writer.session('s-map', 600);
      await writer.instance({ ...record('productpage', 1), tags: ['version=v1', 'zone=eu'] }, 's-map');
      await writer.instance(record('ratings', 2), 's-map');
      const { source: s } = source();
      using rec = new SnapshotRecorder(s, new Set(['productpage', 'ratings']));
      await rec.until((is) => is.length === 2, 5_000, 'both instances');
      const [pp, rt] = rec.current();
      expect(pp).toMatchObject({
        service: 'productpage',
        endpoint: { type: 'http', value: '10.0.0.2:8001', host: '10.0.0.2', port: 8001 },
        tags: ['version=v1', 'zone=eu'],
        status: 'UP',
        metadata: { fluxInstance: 'i1', fluxHost: '192.168.99.1', fluxContainerRule: 'default', fluxSession: 's-map' },
      });
      expect(rt?.endpoint.type).toBe('tcp');
    });

    it('an instance counts only while its session exists: session expiry removes it, a refresh keeps it', async () => {
      await writer.spec('sess', 'http');
      await writer.session('short', 2);
      await writer.session('kept', 2);
      const gone = record('sess', 1);
      const kept = record('sess', 2);
      const orphan = record('sess', 3);
      await writer.instance(gone, 'short');
      await writer.instance(kept, 'kept');
      await writer.instance(orphan, 'no-such-session');
      const { source: s } = source();
      using rec = new SnapshotRecorder(s, new Set(['sess']));
      await rec.until((is) => hasRecord(gone)(is) && hasRecord(kept)(is), 5_000, 'both live instances');
      expect(lacksRecord(orphan)(rec.current())).toBe(true);
      const refresher = setInterval(() => {
        void writer.put(`${ROOT}/session/kept`, '', { ttl: '2', refresh: 'true', prevExist: 'true' }).catch(() => {});
      }, 500);
      try {
        const t0 = Date.now();
        await rec.until((is) => lacksRecord(gone)(is), 8_000, 'the instance of the expired session to go');
        console.log(`[weave] session expiry → instance removed after ${Date.now() - t0} ms (TTL 2 s)`);
        expect(hasRecord(kept)(rec.current())).toBe(true);
        // A new session appearing brings its instances back.
        await writer.session('no-such-session', 600);
        await rec.until(hasRecord(orphan), 5_000, 'the instance whose session appeared');
      } finally {
        clearInterval(refresher);
      }
    });

    it('reads the v0.2 layout (details, instance/<id> with state live, address and port apart)', async () => {
      await writer.put(`${ROOT}/service/old/details`, JSON.stringify({ address: '10.1.0.1:80', protocol: 'http' }));
      const live = {
        state: 'live',
        host: { address: '192.168.1.2' },
        containerRule: 'r',
        address: '10.3.0.1',
        port: 9000,
      };
      await writer.put(`${ROOT}/service/old/instance/c1`, JSON.stringify({ ...live, labels: { tier: 'web' } }));
      await writer.put(
        `${ROOT}/service/old/instance/c2`,
        JSON.stringify({ ...live, state: 'no address', address: '' }),
      );
      const { source: s } = source();
      using rec = new SnapshotRecorder(s, new Set(['old']));
      await rec.until((is) => is.length === 1, 5_000, 'the live v0.2 instance');
      expect(rec.current()[0]).toMatchObject({
        endpoint: { type: 'http', host: '10.3.0.1', port: 9000 },
        tags: ['tier=web'],
      });
    });

    it('malformed values are skipped with coded warnings naming the key; a bad spec only costs the protocol', async () => {
      await writer.put(`${ROOT}/service/mal/spec`, '{"protocol": ');
      await writer.put(
        `${ROOT}/service/mal/instances/ok`,
        JSON.stringify({ address: '10.4.0.1:81', labels: { a: 'b' } }),
      );
      await writer.put(`${ROOT}/service/mal/instances/badaddr`, JSON.stringify({ address: 'nowhere' }));
      await writer.put(`${ROOT}/service/mal/instances/badjson`, 'not json at all');
      const { source: s, logger } = source();
      using rec = new SnapshotRecorder(s, new Set(['mal']));
      await rec.until((is) => is.length === 1, 5_000, 'the one good instance');
      expect(rec.current()[0]?.endpoint).toMatchObject({ type: 'tcp', value: '10.4.0.1:81' });
      const objects = logger.warnings.filter((w) => w.code === 'WEFT_WARN_WEAVE_BAD_VALUE').map((w) => w.object);
      expect(objects.sort()).toEqual(
        [
          `${ROOT}/service/mal/instances/badaddr`,
          `${ROOT}/service/mal/instances/badjson`,
          `${ROOT}/service/mal/spec`,
        ].sort(),
      );
      // Still watching: a later fix arrives, and each bad write was reported once.
      await writer.put(`${ROOT}/service/mal/instances/badjson`, JSON.stringify({ address: '10.4.0.2:82' }));
      await rec.until((is) => is.length === 2, 5_000, 'the fixed instance');
      expect(logger.warnings.filter((w) => w.code === 'WEFT_WARN_WEAVE_BAD_VALUE')).toHaveLength(3);
    });

    it('a restart mid-watch: the source reports it, Discovery keeps the last state, and changes made right after the restart arrive', async () => {
      await writer.spec('rs', 'http');
      await writer.session('rs-session', 600);
      const a = record('rs', 1);
      await writer.instance(a, 'rs-session');
      const { source: s, logger } = source();
      const discovery = new Discovery({ sources: [s] });
      closers.push(() => discovery.close());
      await discovery.ready();
      await waitFor(() => discovery.endpoints('rs').instances.length === 1, 5_000);
      await own.kill();
      await waitFor(() => discovery.endpoints('rs').stale, 15_000, { description: 'the set to be marked stale' });
      expect(discovery.endpoints('rs').instances).toHaveLength(1);
      // Said once, with the cause, however many retries the outage takes.
      await waitFor(() => logger.events('watch-failed') >= 1, 15_000, { description: 'a second failed attempt' });
      expectOneFailureStreak(logger, { recovered: false });
      await own.start();
      // Written before the source reconnects: etcd's v2 history starts empty after a restart, so
      // only a relist can find these.
      const b = record('rs', 2);
      await writer.instance(b, 'rs-session');
      await writer.del(`${ROOT}/service/rs/instances/${a.name}`);
      const t0 = Date.now();
      await waitFor(
        () => {
          const is = discovery.endpoints('rs').instances;
          return is.length === 1 && hasRecord(b)(is);
        },
        20_000,
        { description: 'the changes made around the restart' },
      );
      console.log(`[weave] restart → state current ${Date.now() - t0} ms after the write`);
      expect(discovery.endpoints('rs').stale).toBe(false);
      expect(logger.events('listed')).toBeGreaterThanOrEqual(2);
      expectOneFailureStreak(logger, { recovered: true });
    });

    it('a hung server is found by the probe on the source clock (virtual here: no real second passes), reported once, and recovered from', async () => {
      await writer.spec('hung', 'http');
      await writer.session('hung-session', 600);
      const a = record('hung', 1);
      await writer.instance(a, 'hung-session');
      const proxy = await TcpCutProxy.start({ targetPort: own.clientPort });
      closers.push(() => proxy.close());
      const clock = new VirtualClock(Date.now());
      const { source: s, logger } = source({ endpoints: proxy.url(), clock });
      using rec = new SnapshotRecorder(s);
      await rec.until(hasRecord(a), 5_000, 'the first instance');
      expect(rec.errors).toHaveLength(0);

      proxy.pause(); // the poll in flight and every new request hang: no error, no close
      // A probe every probeIntervalMs (1 s), each with a requestTimeoutMs (2 s) deadline: 3 s of
      // source time find the hang, whatever the real time.
      await clock.advanceAsync(1_000);
      await new Promise((resolve) => setTimeout(resolve, 100)); // the probe's request reaches the hung proxy
      await clock.advanceAsync(2_000);
      await rec.untilErrors(1, 2_000, 'the hang to be reported');
      expect(rec.errors[0]?.message).toMatch(/stopped answering/);
      expectOneFailureStreak(logger, { recovered: false });

      proxy.resume();
      proxy.cut(); // drop the hung connections
      const b = record('hung', 2);
      await writer.instance(b, 'hung-session');
      // The retry waits out its backoff (at most 2 s) on the same clock.
      for (let i = 0; i < 100 && !hasRecord(b)(rec.current()); i++) {
        await clock.advanceAsync(500);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(hasRecord(b)(rec.current())).toBe(true);
      expectOneFailureStreak(logger, { recovered: true });
    });

    it('EventIndexCleared: a wait from an index etcd no longer has answers "cleared"', async () => {
      const client = new V2Client({ endpoints: [own.endpoint], requestTimeoutMs: 2_000 });
      const before = await client.list(ROOT, new AbortController().signal);
      for (let i = 0; i < 1_100; i++) await writer.put(`/elsewhere/k${i % 10}`, String(i));
      const r = await client.wait('/elsewhere', Math.max(1, before.index), 2_000, new AbortController().signal);
      expect(r.kind).toBe('cleared');
    });
  });
});
