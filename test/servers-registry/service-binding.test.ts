/**
 * Credentials bound to services write only those services' instances, over real HTTP (`jwt`
 * mode), on the registry server and on the control plane: a token bound to `reviews` registers,
 * renews and removes `reviews` instances, and is refused (403 `WEFT_ERR_BINDING_FORBIDDEN`,
 * naming the service and the binding) every write of a `ratings` instance — registration,
 * heartbeat, deregistration, status change, on `/api/v1` and on the Eureka API — so it cannot take
 * over `ratings`'s traffic; it still reads the whole catalogue, and an unknown id answers as
 * before. A token without the claim stays namespace-wide.
 */
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuthMode } from '../../packages/servers/src/auth/authenticator.js';
import { createControlPlaneServer } from '../../packages/servers/src/control-plane.js';
import { createRegistryServer } from '../../packages/servers/src/registry/index.js';
import { type Answer, json, listen, send } from './helpers.js';

const SECRET = 'registry-binding-test-secret-0123456789';
const AUTH: AuthMode[] = [{ type: 'jwt', secret: SECRET }];
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const servers = [
  {
    name: 'registry server',
    async start(): Promise<string> {
      const server = await createRegistryServer({ auth: AUTH });
      cleanups.push(() => server.close());
      return listen(server);
    },
  },
  {
    name: 'control plane',
    async start(): Promise<string> {
      const server = await createControlPlaneServer({ auth: AUTH, dashboard: false });
      cleanups.push(() => server.close());
      return listen(server);
    },
  },
];

function token(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));
}

const bearer = (jwt: string) => ({ authorization: `Bearer ${jwt}` });
/** What a Eureka client sends: the token as the password of the server URL. */
const basic = (jwt: string) => ({
  authorization: `Basic ${Buffer.from(`user:${jwt}`).toString('base64')}`,
  accept: 'application/json',
});

const registration = (service: string, port: number) => ({
  service_name: service,
  endpoint: { type: 'http', value: `10.0.0.1:${port}` },
  ttl: 60,
});

/** The refusal of a bound token's write: 403, coded, naming the service and the binding. */
function expectRefused(answer: Answer, action: string, service = 'ratings', binding = 'service reviews'): void {
  expect(answer.status, answer.body).toBe(403);
  const body = json(answer);
  expect(body.code).toBe('WEFT_ERR_BINDING_FORBIDDEN');
  expect(body.status).toBe(403);
  expect(body.message ?? body.error).toBe(
    `the request ${action} an instance of service ${service}: these credentials are bound to ${binding} in namespace team-a`,
  );
}

describe.each(servers)('service-bound credentials on the registry ($name)', ({ start }) => {
  it('registers the bound service and refuses another one, which stays unregistered', async () => {
    const base = await start();
    const reviews = bearer(await token({ namespace: 'team-a', services: ['reviews'] }));
    const operator = bearer(await token({ namespace: 'team-a' }));

    const own = await send(base, '/api/v1/instances', { headers: reviews, body: registration('reviews', 9080) });
    expect(own.status, own.body).toBe(201);

    const other = await send(base, '/api/v1/instances', { headers: reviews, body: registration('ratings', 9081) });
    expectRefused(other, 'registers');
    expect(json(other).Error).toBe('Failed to register instance'); // Amalgam8's text for the operation
    const services = json<{ services: string[] }>(await send(base, '/api/v1/services', { headers: operator }));
    expect(services.services).toEqual(['reviews']);

    // Bound to both: registers either, and is refused a third service, naming the binding.
    const both = bearer(await token({ namespace: 'team-a', services: ['reviews', 'ratings'] }));
    expect((await send(base, '/api/v1/instances', { headers: both, body: registration('ratings', 9081) })).status).toBe(
      201,
    );
    const details = await send(base, '/api/v1/instances', { headers: both, body: registration('details', 9082) });
    expectRefused(details, 'registers', 'details', 'services reviews, ratings');
  });

  it('refuses heartbeats, status changes and deregistrations of another service’s instance; reads stay namespace-wide', async () => {
    const base = await start();
    const reviews = bearer(await token({ namespace: 'team-a', services: 'reviews' }));
    const operator = bearer(await token({ namespace: 'team-a' }));
    const ratingsId = json<{ id: string }>(
      await send(base, '/api/v1/instances', { headers: operator, body: registration('ratings', 9081) }),
    ).id;
    const reviewsId = json<{ id: string }>(
      await send(base, '/api/v1/instances', { headers: reviews, body: registration('reviews', 9080) }),
    ).id;

    const path = `/api/v1/instances/${ratingsId}`;
    expectRefused(await send(base, `${path}/heartbeat`, { method: 'PUT', headers: reviews }), 'renews');
    expectRefused(
      await send(base, `${path}/status`, { method: 'PUT', headers: reviews, body: { status: 'OUT_OF_SERVICE' } }),
      'changes the status of',
    );
    const deregistered = await send(base, path, { method: 'DELETE', headers: reviews });
    expectRefused(deregistered, 'deregisters');
    expect(json(deregistered).Error).toBe('Failed to deregister instance');

    // The bound token reads the whole catalogue: ratings's instance is there, untouched.
    const ratings = await send(base, '/api/v1/services/ratings', { headers: reviews });
    expect(ratings.status).toBe(200);
    expect(json<{ instances: { id: string; status: string }[] }>(ratings).instances).toMatchObject([
      { id: ratingsId, status: 'UP' },
    ]);
    const all = json<{ instances: { service_name: string }[] }>(
      await send(base, '/api/v1/instances', { headers: reviews }),
    );
    expect(all.instances.map((i) => i.service_name).sort()).toEqual(['ratings', 'reviews']);

    // Its own instance: every write goes through.
    const own = `/api/v1/instances/${reviewsId}`;
    expect((await send(base, `${own}/heartbeat`, { method: 'PUT', headers: reviews })).status).toBe(200);
    expect(
      (await send(base, `${own}/status`, { method: 'PUT', headers: reviews, body: { status: 'STARTING' } })).status,
    ).toBe(200);
    expect((await send(base, own, { method: 'DELETE', headers: reviews })).status).toBe(200);

    // An id nobody has answers as it always did (410), not 403.
    const unknown = await send(base, '/api/v1/instances/0123456789abcdef/heartbeat', {
      method: 'PUT',
      headers: reviews,
    });
    expect(unknown.status).toBe(410);
    expect(json(unknown).code).toBe('WEFT_ERR_UNKNOWN_INSTANCE');
  });

  it('leaves a token without the services claim namespace-wide', async () => {
    const base = await start();
    const operator = bearer(await token({ namespace: 'team-a' }));
    for (const [service, port] of [
      ['reviews', 9080],
      ['ratings', 9081],
    ] as const) {
      const created = await send(base, '/api/v1/instances', { headers: operator, body: registration(service, port) });
      expect(created.status, service).toBe(201);
      const path = `/api/v1/instances/${json<{ id: string }>(created).id}`;
      expect((await send(base, `${path}/heartbeat`, { method: 'PUT', headers: operator })).status).toBe(200);
      expect(
        (await send(base, `${path}/status`, { method: 'PUT', headers: operator, body: { status: 'OUT_OF_SERVICE' } }))
          .status,
      ).toBe(200);
      expect((await send(base, path, { method: 'DELETE', headers: operator })).status).toBe(200);
    }
  });
});

/** A registration as a Eureka client sends it (JSON). */
function eurekaInstance(app: string, id: string, port: number) {
  return {
    instance: {
      instanceId: id,
      hostName: `${app.toLowerCase()}.local`,
      app,
      ipAddr: '10.0.0.7',
      status: 'UP',
      port: { $: port, '@enabled': 'true' },
      securePort: { $: 443, '@enabled': 'false' },
      dataCenterInfo: { '@class': 'com.netflix.appinfo.InstanceInfo$MyDataCenterInfo', name: 'MyOwn' },
      vipAddress: app.toLowerCase(),
    },
  };
}

describe.each(servers)('service-bound credentials on the Eureka API ($name)', ({ start }) => {
  it('registers and renews the bound service’s instances only, and reads every application', async () => {
    const base = await start();
    const reviews = basic(await token({ namespace: 'team-a', services: ['reviews'] }));
    const operator = basic(await token({ namespace: 'team-a' }));

    const own = await send(base, '/eureka/apps/REVIEWS', {
      headers: reviews,
      body: eurekaInstance('REVIEWS', 'r1', 9080),
    });
    expect(own.status, own.body).toBe(204);
    expect((await send(base, '/eureka/apps/REVIEWS/r1', { method: 'PUT', headers: reviews })).status).toBe(200);
    expectRefused(
      await send(base, '/eureka/apps/RATINGS', { headers: reviews, body: eurekaInstance('RATINGS', 'x1', 9081) }),
      'registers',
    );

    // ratings's instance, registered by the operator: the bound token can touch none of it.
    expect(
      (await send(base, '/eureka/apps/RATINGS', { headers: operator, body: eurekaInstance('RATINGS', 'ra1', 9081) }))
        .status,
    ).toBe(204);
    const instance = '/eureka/apps/RATINGS/ra1';
    expectRefused(await send(base, instance, { method: 'PUT', headers: reviews }), 'renews');
    expectRefused(
      await send(base, `${instance}/status?value=OUT_OF_SERVICE`, { method: 'PUT', headers: reviews }),
      'overrides the status of',
    );
    expectRefused(
      await send(base, `${instance}/status`, { method: 'DELETE', headers: reviews }),
      'lifts the status override of',
    );
    expectRefused(
      await send(base, `${instance}/metadata?owner=reviews`, { method: 'PUT', headers: reviews }),
      'changes the metadata of',
    );
    expectRefused(await send(base, instance, { method: 'DELETE', headers: reviews }), 'deregisters');

    // An unknown instance is still the 404 that makes a client register again.
    expect((await send(base, '/eureka/apps/RATINGS/nobody', { method: 'PUT', headers: reviews })).status).toBe(404);

    // Reads are namespace-wide: ratings is there, as the operator left it.
    const apps = json<{ applications: { application: { name: string; instance: { status: string }[] }[] } }>(
      await send(base, '/eureka/apps', { headers: reviews }),
    ).applications.application;
    expect(apps.map((a) => a.name).sort()).toEqual(['RATINGS', 'REVIEWS']);
    expect(apps.find((a) => a.name === 'RATINGS')?.instance).toMatchObject([{ status: 'UP' }]);

    // The operator's token is namespace-wide there too.
    expect((await send(base, instance, { method: 'PUT', headers: operator })).status).toBe(200);
    expect((await send(base, instance, { method: 'DELETE', headers: operator })).status).toBe(200);
  });
});
