/**
 * The registry's Eureka API over real HTTP, wire format by wire format: JSON and XML bodies and
 * answers, both base paths, overrides, metadata updates, VIPs, errors, namespaces through Basic
 * credentials, and the settings that turn it off or move it. (eureka.test.ts drives a real
 * Eureka client through the same server.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AuthMode } from '../../packages/servers/src/auth/authenticator.js';
import { createControlPlaneServer } from '../../packages/servers/src/control-plane.js';
import { createRegistryServer } from '../../packages/servers/src/registry/index.js';
import type { RegistryServerOptions } from '../../packages/servers/src/registry/server-options.js';
import { json, listen, send } from './helpers.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(options: RegistryServerOptions = {}): Promise<string> {
  const server = await createRegistryServer(options);
  cleanups.push(() => server.close());
  return listen(server);
}

/** A registration body as Netflix's eureka-client sends it (JSON, `$` / `@enabled` ports). */
function netflixInstance(app: string, id: string, port: number, extra: Record<string, unknown> = {}) {
  return {
    instance: {
      instanceId: id,
      hostName: 'books.local',
      app,
      ipAddr: '10.0.0.7',
      status: 'UP',
      overriddenStatus: 'UNKNOWN',
      port: { $: port, '@enabled': 'true' },
      securePort: { $: 443, '@enabled': 'false' },
      countryId: 1,
      dataCenterInfo: { '@class': 'com.netflix.appinfo.InstanceInfo$MyDataCenterInfo', name: 'MyOwn' },
      leaseInfo: { renewalIntervalInSecs: 30, durationInSecs: 90 },
      metadata: { version: 'v3', zone: 'eu' },
      homePageUrl: `http://books.local:${port}/`,
      statusPageUrl: `http://books.local:${port}/actuator/info`,
      healthCheckUrl: `http://books.local:${port}/actuator/health`,
      vipAddress: app.toLowerCase(),
      secureVipAddress: app.toLowerCase(),
      isCoordinatingDiscoveryServer: 'false',
      lastUpdatedTimestamp: '1700000000000',
      lastDirtyTimestamp: '1700000000000',
      ...extra,
    },
  };
}

const JSON_ACCEPT = { accept: 'application/json' };

describe('Eureka API', () => {
  it('registers from JSON and serves the instance at both base paths, as JSON and as XML', async () => {
    const base = await start();
    const post = await send(base, '/eureka/v2/apps/RATINGS', { body: netflixInstance('RATINGS', 'ratings-1', 9080) });
    expect(post.status).toBe(204);

    const one = json<{ instance: Record<string, unknown> }>(
      await send(base, '/eureka/apps/RATINGS/ratings-1', { headers: JSON_ACCEPT }),
    ).instance;
    expect(one).toMatchObject({
      instanceId: 'ratings-1',
      hostName: 'books.local',
      app: 'RATINGS',
      ipAddr: '10.0.0.7',
      status: 'UP',
      overriddenStatus: 'UNKNOWN',
      port: { $: 9080, '@enabled': 'true' },
      securePort: { $: 443, '@enabled': 'false' },
      leaseInfo: { renewalIntervalInSecs: 30, durationInSecs: 90 },
      metadata: { version: 'v3', zone: 'eu' },
      statusPageUrl: 'http://books.local:9080/actuator/info',
      vipAddress: 'ratings',
      actionType: 'ADDED',
    });

    const xml = await send(base, '/eureka/v2/apps/ratings'); // any case; no Accept → XML
    expect(xml.status).toBe(200);
    expect(xml.headers['content-type']).toMatch(/^application\/xml/);
    expect(xml.body).toContain('<application><name>RATINGS</name><instance><instanceId>ratings-1</instanceId>');
    expect(xml.body).toContain('<port enabled="true">9080</port>');
    expect(xml.body).toContain('<overriddenstatus>UNKNOWN</overriddenstatus>');

    // The same instance through Amalgam8's API: service lower-cased, tags from `version`.
    const a8 = json<{ instances: Record<string, unknown>[] }>(
      await send(base, '/api/v1/instances?service_name=ratings'),
    );
    expect(a8.instances).toEqual([
      expect.objectContaining({
        service_name: 'ratings',
        endpoint: { type: 'http', value: '10.0.0.7:9080' },
        ttl: 90,
        tags: ['version=v3'],
      }),
    ]);
  });

  it('takes XML registrations, and an https-only instance becomes an https endpoint', async () => {
    const base = await start();
    const body = `<instance><instanceId>secure-1</instanceId><hostName>vault</hostName><app>VAULT</app>
      <ipAddr>10.0.0.9</ipAddr><status>STARTING</status>
      <port enabled="false">8080</port><securePort enabled="true">8443</securePort>
      <dataCenterInfo class="com.netflix.appinfo.InstanceInfo$MyDataCenterInfo"><name>MyOwn</name></dataCenterInfo>
      <leaseInfo><durationInSecs>20</durationInSecs></leaseInfo>
      <metadata class="java.util.Collections$EmptyMap"/></instance>`;
    const post = await send(base, '/eureka/apps/VAULT', { body, headers: { 'content-type': 'application/xml' } });
    expect(post.status, post.body).toBe(204);
    const a8 = json<{ instances: Record<string, unknown>[] }>(
      await send(base, '/api/v1/instances?service_name=vault&status=ALL'),
    );
    expect(a8.instances[0]).toMatchObject({
      endpoint: { type: 'https', value: '10.0.0.9:8443' },
      ttl: 20,
      status: 'STARTING',
    });
    const shown = json<{ instance: Record<string, unknown> }>(
      await send(base, '/eureka/instances/secure-1', { headers: JSON_ACCEPT }),
    ).instance;
    expect(shown).toMatchObject({
      status: 'STARTING',
      port: { $: 8080, '@enabled': 'false' },
      securePort: { $: 8443, '@enabled': 'true' },
      metadata: { '@class': 'java.util.Collections$EmptyMap' },
    });
  });

  it('renews, answers 404 to an unknown or newer-dirty heartbeat, and cancels', async () => {
    const base = await start();
    await send(base, '/eureka/apps/RATINGS', { body: netflixInstance('RATINGS', 'r-1', 9080) });
    expect(
      (await send(base, '/eureka/apps/RATINGS/r-1?status=UP&lastDirtyTimestamp=1700000000000', { method: 'PUT' }))
        .status,
    ).toBe(200);
    // A client that changed since it registered: 404, so it registers again.
    expect(
      (await send(base, '/eureka/apps/RATINGS/r-1?status=UP&lastDirtyTimestamp=1700000009999', { method: 'PUT' }))
        .status,
    ).toBe(404);
    expect((await send(base, '/eureka/apps/RATINGS/nobody', { method: 'PUT' })).status).toBe(404);
    expect((await send(base, '/eureka/apps/RATINGS/r-1', { method: 'DELETE' })).status).toBe(200);
    expect((await send(base, '/eureka/apps/RATINGS/r-1', { method: 'DELETE' })).status).toBe(404);
    expect((await send(base, '/eureka/apps/RATINGS')).status).toBe(404);
  });

  it('keeps a status override across re-registrations until it is deleted', async () => {
    const base = await start();
    const register = () => send(base, '/eureka/apps/RATINGS', { body: netflixInstance('RATINGS', 'r-1', 9080) });
    await register();
    const statusOf = async () =>
      json<{ instance: { status: string; overriddenStatus: string } }>(
        await send(base, '/eureka/apps/RATINGS/r-1', { headers: JSON_ACCEPT }),
      ).instance;
    const a8Status = async () =>
      json<{ instances: { status: string }[] }>(await send(base, '/api/v1/instances?service_name=ratings&status=ALL'))
        .instances[0]?.status;

    expect((await send(base, '/eureka/apps/RATINGS/r-1/status?value=OUT_OF_SERVICE', { method: 'PUT' })).status).toBe(
      200,
    );
    expect(await statusOf()).toMatchObject({ status: 'OUT_OF_SERVICE', overriddenStatus: 'OUT_OF_SERVICE' });
    expect(await a8Status()).toBe('OUT_OF_SERVICE');
    await register(); // the client says UP again: the override stays
    expect(await statusOf()).toMatchObject({ status: 'OUT_OF_SERVICE', overriddenStatus: 'OUT_OF_SERVICE' });

    expect((await send(base, '/eureka/apps/RATINGS/r-1/status', { method: 'DELETE' })).status).toBe(200);
    expect(await statusOf()).toMatchObject({ status: 'UP', overriddenStatus: 'UNKNOWN' });
    expect(await a8Status()).toBe('UP');

    // DOWN has no Weft status of its own: Weft keeps STARTING (not routed, still expiring).
    await send(base, '/eureka/apps/RATINGS/r-1/status?value=DOWN', { method: 'PUT' });
    expect(await statusOf()).toMatchObject({ status: 'DOWN' });
    expect(await a8Status()).toBe('STARTING');

    const bad = await send(base, '/eureka/apps/RATINGS/r-1/status?value=SLEEPY', { method: 'PUT' });
    expect(bad.status).toBe(400);
    expect(json(bad)).toMatchObject({ code: 'WEFT_ERR_INVALID_ARGUMENT', issues: [{ path: 'value' }] });
  });

  it('updates metadata (and the tags that follow it) with PUT …/metadata', async () => {
    const base = await start();
    await send(base, '/eureka/apps/RATINGS', { body: netflixInstance('RATINGS', 'r-1', 9080) });
    expect(
      (await send(base, '/eureka/apps/RATINGS/r-1/metadata?version=v4&owner=books', { method: 'PUT' })).status,
    ).toBe(200);
    const a8 = json<{ instances: { metadata: Record<string, unknown>; tags: string[] }[] }>(
      await send(base, '/api/v1/instances?service_name=ratings'),
    ).instances[0];
    expect(a8?.metadata).toMatchObject({ version: 'v4', owner: 'books', zone: 'eu' });
    expect(a8?.tags).toEqual(['version=v4']);
  });

  it('lists applications with their reconcile hash, by VIP too, and shows /api/v1 instances', async () => {
    const base = await start();
    await send(base, '/eureka/apps/RATINGS', { body: netflixInstance('RATINGS', 'r-1', 9080) });
    await send(base, '/eureka/apps/RATINGS', { body: netflixInstance('RATINGS', 'r-2', 9081, { status: 'DOWN' }) });
    await send(base, '/api/v1/instances', {
      body: { service_name: 'Reviews', endpoint: { type: 'http', value: '10.0.0.8:9080' }, tags: ['version=v1'] },
    });
    const all = json<{
      applications: { apps__hashcode: string; application: { name: string; instance: unknown[] }[] };
    }>(await send(base, '/eureka/v2/apps', { headers: JSON_ACCEPT })).applications;
    expect(all.apps__hashcode).toBe('DOWN_1_UP_2_');
    expect(all.application.map((a) => [a.name, a.instance.length])).toEqual([
      ['RATINGS', 2],
      ['REVIEWS', 1],
    ]);
    // A service registered as `Reviews` answers to REVIEWS.
    expect((await send(base, '/eureka/apps/REVIEWS')).status).toBe(200);
    const vip = json<{ applications: { application: { name: string }[] } }>(
      await send(base, '/eureka/vips/reviews', { headers: JSON_ACCEPT }),
    );
    expect(vip.applications.application.map((a) => a.name)).toEqual(['REVIEWS']);
    expect((await send(base, '/eureka/svips/nothing')).status).toBe(404);
  });

  it('answers a delta of the changes since the log started, with the whole registry hash', async () => {
    const base = await start();
    await send(base, '/eureka/apps/RATINGS', { body: netflixInstance('RATINGS', 'r-1', 9080) });
    const full = json<{ applications: { versions__delta: string } }>(
      await send(base, '/eureka/apps', { headers: JSON_ACCEPT }),
    ).applications;
    await send(base, '/eureka/apps/RATINGS', { body: netflixInstance('RATINGS', 'r-2', 9081) });
    await send(base, '/eureka/apps/RATINGS/r-1', { method: 'DELETE' });
    // The log follows the registry's watch: give it a moment.
    let delta:
      | {
          versions__delta: string;
          apps__hashcode: string;
          application: { instance: { instanceId: string; actionType: string }[] }[];
        }
      | undefined;
    for (let i = 0; i < 50; i++) {
      delta = json<{ applications: NonNullable<typeof delta> }>(
        await send(base, '/eureka/apps/delta', { headers: JSON_ACCEPT }),
      ).applications;
      if (delta.application.flatMap((a) => a.instance).length === 2) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(Number(delta?.versions__delta)).toBeGreaterThan(Number(full.versions__delta));
    expect(delta?.apps__hashcode).toBe('UP_1_');
    const actions = delta?.application.flatMap((a) => a.instance).map((i) => [i.instanceId, i.actionType]);
    expect(actions?.sort()).toEqual([
      ['r-1', 'DELETED'],
      ['r-2', 'ADDED'],
    ]);
  });

  it('names every bad field of a registration, and refuses other media types and DOCTYPEs', async () => {
    const base = await start();
    const bad = await send(base, '/eureka/apps/RATINGS', {
      body: { instance: { app: 'OTHER', status: 'SLEEPY', port: { $: 70000, '@enabled': 'true' } } },
    });
    expect(bad.status).toBe(400);
    const paths = json<{ issues: { path: string }[] }>(bad).issues.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'instance.hostName',
        'instance.ipAddr',
        'instance.app',
        'instance.status',
        'instance.port.$',
      ]),
    );
    const text = await send(base, '/eureka/apps/RATINGS', { body: 'hello', headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBe(415);
    const doctype = await send(base, '/eureka/apps/RATINGS', {
      body: '<!DOCTYPE x [<!ENTITY a "b">]><instance/>',
      headers: { 'content-type': 'application/xml' },
    });
    expect(doctype.status).toBe(400);
  });

  it('puts Eureka clients in namespaces through Basic credentials (the password is the token)', async () => {
    const auth: AuthMode[] = [{ type: 'trusted' }];
    const base = await start({ auth });
    const basic = (user: string, token: string) => ({
      authorization: `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}`,
    });
    expect((await send(base, '/eureka/apps')).status).toBe(401);
    const post = await send(base, '/eureka/apps/RATINGS', {
      body: netflixInstance('RATINGS', 'r-1', 9080),
      headers: basic('eureka', 'tenant-a'),
    });
    expect(post.status).toBe(204);
    // Tenant A sees it through Amalgam8's API with its bearer token; tenant B sees nothing anywhere.
    const a = json<{ instances: unknown[] }>(
      await send(base, '/api/v1/instances', { headers: { authorization: 'Bearer tenant-a' } }),
    );
    expect(a.instances).toHaveLength(1);
    expect((await send(base, '/eureka/apps/RATINGS', { headers: basic('x', 'tenant-b') })).status).toBe(404);
    expect(
      (await send(base, '/eureka/apps/RATINGS/r-1', { method: 'PUT', headers: basic('x', 'tenant-b') })).status,
    ).toBe(404);
    // Bearer works too, and Basic stays off /api/v1 (Amalgam8's API is unchanged).
    expect((await send(base, '/eureka/apps/RATINGS', { headers: { authorization: 'Bearer tenant-a' } })).status).toBe(
      200,
    );
    expect((await send(base, '/api/v1/instances', { headers: basic('x', 'tenant-a') })).status).toBe(401);
  });

  it("serves Amalgam8's form too: the token in the path, below the registry's prefix", async () => {
    const base = await start({ auth: [{ type: 'trusted' }], prefix: '/registry' });
    const post = await send(base, '/registry/api/eureka/tenant-a/v2/apps/RATINGS', {
      body: netflixInstance('RATINGS', 'r-1', 9080),
    });
    expect(post.status).toBe(204);
    const a = json<{ instances: unknown[] }>(
      await send(base, '/registry/api/v1/instances', { headers: { authorization: 'Bearer tenant-a' } }),
    );
    expect(a.instances).toHaveLength(1);
    expect((await send(base, '/registry/api/eureka/tenant-b/v2/apps/RATINGS')).status).toBe(404);
    expect((await send(base, '/registry/api/eureka/not%20a%20namespace/v2/apps')).status).toBe(401);
  });

  it('moves with registry.eureka.prefix, turns off with enabled: false, and runs in the control plane', async () => {
    const moved = await start({ eureka: { prefix: '/discovery' } });
    expect((await send(moved, '/discovery/v2/apps')).status).toBe(200);
    expect((await send(moved, '/eureka/apps')).status).toBe(404);
    const off = await start({ eureka: { enabled: false } });
    expect((await send(off, '/eureka/apps')).status).toBe(404);

    const plane = await createControlPlaneServer({});
    cleanups.push(() => plane.close());
    const base = await listen(plane);
    expect((await send(base, '/eureka/apps/RATINGS', { body: netflixInstance('RATINGS', 'r-1', 9080) })).status).toBe(
      204,
    );
    expect(json<{ instances: unknown[] }>(await send(base, '/api/v1/instances')).instances).toHaveLength(1);
  });
});
