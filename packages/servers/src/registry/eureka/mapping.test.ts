import { MemoryRegistry, type ServiceInstance } from '@weft/core';
import { afterEach, describe, expect, it } from 'vitest';
import { basicAsBearer } from './auth.js';
import { parseXmlBody } from './codec.js';
import { overrideOf, shownStatus, toEurekaInstance } from './from-weft.js';
import { RECORD_KEY, recordOf } from './record.js';
import { type EurekaRegistration, readEurekaRegistration } from './registration-body.js';
import { tagsOfMetadata, toWeftRegistration } from './to-weft.js';

const registries: MemoryRegistry[] = [];
afterEach(async () => {
  for (const r of registries.splice(0)) await r.close();
});

/** Registers through a real registry, so the mapping meets the registry's own checks. */
async function registered(input: ReturnType<typeof toWeftRegistration>): Promise<ServiceInstance> {
  const registry = new MemoryRegistry();
  registries.push(registry);
  return registry.register(input);
}

function registration(instance: Record<string, unknown> = {}): EurekaRegistration {
  return readEurekaRegistration(
    {
      instance: {
        instanceId: 'host-a:books:8080',
        hostName: 'host-a',
        app: 'BOOKS',
        ipAddr: '10.1.2.3',
        port: { $: 8080, '@enabled': 'true' },
        securePort: { $: 443, '@enabled': 'false' },
        leaseInfo: { renewalIntervalInSecs: 30, durationInSecs: 45 },
        metadata: { version: 'v2' },
        ...instance,
      },
    },
    'BOOKS',
  );
}

describe('Eureka → Weft', () => {
  it('maps app, endpoint, TTL, status, metadata and tags, keeping only what cannot be derived', async () => {
    const input = toWeftRegistration(registration(), { overriddenStatus: undefined });
    expect(input).toEqual({
      service: 'books',
      endpoint: { type: 'http', value: '10.1.2.3:8080' },
      ttl: 45,
      status: 'UP',
      metadata: { version: 'v2', [RECORD_KEY]: { instanceId: 'host-a:books:8080', hostName: 'host-a', status: 'UP' } },
      tags: ['version=v2'],
    });
    const instance = await registered(input);
    expect(instance.ttl).toBe(45);
    expect(recordOf(instance)).toEqual({ instanceId: 'host-a:books:8080', hostName: 'host-a', status: 'UP' });
  });

  it('uses the secure port, as https, when only it is enabled; DOWN becomes STARTING', () => {
    const input = toWeftRegistration(
      registration({
        status: 'DOWN',
        port: { $: 8080, '@enabled': 'false' },
        securePort: { $: 8443, '@enabled': 'true' },
      }),
      { overriddenStatus: undefined },
    );
    expect(input.endpoint).toEqual({ type: 'https', value: '10.1.2.3:8443' });
    expect(input.status).toBe('STARTING');
    expect(input.metadata?.[RECORD_KEY]).toMatchObject({ port: 8080 });
  });

  it('keeps an override over the status the client reports', () => {
    const input = toWeftRegistration(registration({ status: 'UP' }), { overriddenStatus: 'OUT_OF_SERVICE' });
    expect(input.status).toBe('OUT_OF_SERVICE');
    expect(input.metadata?.[RECORD_KEY]).toMatchObject({ status: 'UP', overriddenStatus: 'OUT_OF_SERVICE' });
  });

  it('derives tags from `version` and from weft.tags / amalgam8.tags lists', () => {
    expect(tagsOfMetadata({ version: 'v1', 'weft.tags': 'canary, zone=eu,,', 'amalgam8.tags': 'canary,db' })).toEqual([
      'version=v1',
      'canary',
      'zone=eu',
      'db',
    ]);
    expect(tagsOfMetadata({ versions: 'v1', 'weft.tags': 42 })).toEqual([]);
  });

  it('drops the links first when the metadata would exceed 1 024 bytes, and a client cannot forge the record', async () => {
    const long = `http://host-a:8080/${'x'.repeat(300)}`;
    const input = toWeftRegistration(
      registration({
        homePageUrl: long,
        statusPageUrl: long,
        healthCheckUrl: long,
        metadata: { [RECORD_KEY]: 'forged', note: 'y'.repeat(200) },
      }),
      { overriddenStatus: undefined },
    );
    const instance = await registered(input);
    const record = recordOf(instance);
    expect(record?.instanceId).toBe('host-a:books:8080');
    expect(record?.homePageUrl).toBeUndefined();
    expect(JSON.stringify(instance.metadata).length).toBeLessThanOrEqual(1024);
  });

  it('reads XML bodies the way it reads JSON ones', () => {
    const xml = parseXmlBody(
      `<instance><instanceId>i-1</instanceId><hostName>h</hostName><app>BOOKS</app><ipAddr>10.0.0.1</ipAddr>
       <status>starting</status><port enabled="true">81</port><securePort enabled="false">443</securePort>
       <leaseInfo><renewalIntervalInSecs>5</renewalIntervalInSecs><durationInSecs>15</durationInSecs></leaseInfo>
       <metadata><version>v9</version><empty/></metadata><lastDirtyTimestamp>1700</lastDirtyTimestamp></instance>`,
    );
    expect(readEurekaRegistration(xml, 'books')).toMatchObject({
      instanceId: 'i-1',
      status: 'STARTING',
      port: { port: 81, enabled: true },
      renewalIntervalInSecs: 5,
      durationInSecs: 15,
      metadata: { version: 'v9', empty: '' },
      lastDirtyTimestamp: 1700,
    });
  });

  it('applies Eureka defaults and falls back to hostName as the instance id', () => {
    const reg = readEurekaRegistration({ instance: { hostName: 'h', ipAddr: '10.0.0.1' } }, 'APP');
    expect(reg).toMatchObject({
      instanceId: 'h',
      app: 'APP',
      status: 'UP',
      port: { port: 7001, enabled: true },
      durationInSecs: 90,
      renewalIntervalInSecs: 30,
    });
  });

  it('refuses a body without an instance, and a registration with no enabled port', () => {
    expect(() => readEurekaRegistration({ hostName: 'h' }, 'APP')).toThrow(/instance/);
    expect(() =>
      readEurekaRegistration({ instance: { hostName: 'h', ipAddr: 'i', port: { $: 1, '@enabled': 'false' } } }, 'APP'),
    ).toThrow(/no port is enabled/);
  });
});

describe('Weft → Eureka', () => {
  it('shows an instance registered through /api/v1 with derived fields', async () => {
    const registry = new MemoryRegistry();
    registries.push(registry);
    const instance = await registry.register({
      service: 'Reviews',
      endpoint: { type: 'http', value: '10.0.0.8:9080' },
      tags: ['version=v1', 'canary'],
      metadata: { owner: 'books', weight: 3 },
    });
    expect(toEurekaInstance(instance)).toMatchObject({
      instanceId: instance.id,
      app: 'REVIEWS',
      hostName: '10.0.0.8',
      ipAddr: '10.0.0.8',
      status: 'UP',
      overriddenStatus: 'UNKNOWN',
      port: { port: 9080, enabled: true },
      securePort: { port: 443, enabled: false },
      metadata: { owner: 'books', weight: '3', 'weft.tags': 'version=v1,canary' },
      homePageUrl: 'http://10.0.0.8:9080/',
      vipAddress: 'reviews',
      leaseInfo: { durationInSecs: 30 },
    });
  });

  it('round-trips a Eureka registration', async () => {
    const reg = registration({ vipAddress: 'books-vip', dataCenterInfo: { name: 'Amazon' } });
    const view = toEurekaInstance(await registered(toWeftRegistration(reg, { overriddenStatus: undefined })));
    expect(view).toMatchObject({
      instanceId: reg.instanceId,
      hostName: reg.hostName,
      ipAddr: reg.ipAddr,
      app: 'BOOKS',
      port: reg.port,
      securePort: reg.securePort,
      vipAddress: 'books-vip',
      secureVipAddress: 'books',
      dataCenterInfo: { name: 'Amazon' },
      metadata: { version: 'v2' },
      leaseInfo: { durationInSecs: 45, renewalIntervalInSecs: 30 },
    });
    expect(view.metadata[RECORD_KEY]).toBeUndefined();
  });

  it('tells the client status, an override, and a change made through /api/v1 apart', async () => {
    const registry = new MemoryRegistry();
    registries.push(registry);
    const down = await registry.register(
      toWeftRegistration(registration({ status: 'DOWN' }), { overriddenStatus: undefined }),
    );
    expect(down.status).toBe('STARTING');
    expect(shownStatus(down)).toBe('DOWN');
    expect(overrideOf(down)).toBeUndefined();
    // Parked through /api/v1: an override the client did not ask for.
    const parked = await registry.setStatus(down.id, 'OUT_OF_SERVICE');
    expect(shownStatus(parked)).toBe('OUT_OF_SERVICE');
    expect(overrideOf(parked)).toBe('OUT_OF_SERVICE');
    // Back UP through /api/v1: the client's DOWN no longer describes it.
    const up = await registry.setStatus(down.id, 'UP');
    expect(shownStatus(up)).toBe('UP');
  });
});

describe('Basic credentials', () => {
  it('reads the password as the bearer token and passes anything else on', () => {
    const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
    expect(basicAsBearer(basic('eureka:tenant-a'))).toBe('Bearer tenant-a');
    expect(basicAsBearer(basic('user:pa:ss'))).toBe('Bearer pa:ss');
    expect(basicAsBearer(basic('user:'))).toBeUndefined();
    expect(basicAsBearer('Bearer x')).toBe('Bearer x');
    expect(basicAsBearer(undefined)).toBeUndefined();
  });
});
