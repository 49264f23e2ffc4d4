import type { Registry, ServiceInstance } from '@weft/core';
import { sameApp, serviceOfApp } from './names.js';
import { eurekaIdOf } from './record.js';

/**
 * Every instance of an application, in every status: the service of its lower-cased name, and
 * any other service whose name differs only in case (registered through `/api/v1` as `Reviews`).
 */
export async function instancesOfApp(registry: Registry, namespace: string, app: string): Promise<ServiceInstance[]> {
  const names = (await registry.services({ namespace })).filter((service) => sameApp(app, service));
  const lists = await Promise.all(names.map((service) => registry.instances({ namespace, service, status: 'ALL' })));
  return lists.flat();
}

/**
 * The instance a Eureka client means by application and instance id. The lower-cased service is
 * read first — it is where every instance registered through Eureka lives, so heartbeats cost one
 * service read — then services spelled in other cases.
 */
export async function findInstance(
  registry: Registry,
  namespace: string,
  app: string,
  eurekaId: string,
): Promise<ServiceInstance | undefined> {
  const service = serviceOfApp(app);
  const own = await registry.instances({ namespace, service, status: 'ALL' });
  const hit = own.find((i) => eurekaIdOf(i) === eurekaId);
  if (hit !== undefined) return hit;
  const others = (await registry.services({ namespace })).filter((s) => s !== service && sameApp(app, s));
  for (const other of others) {
    const found = (await registry.instances({ namespace, service: other, status: 'ALL' })).find(
      (i) => eurekaIdOf(i) === eurekaId,
    );
    if (found !== undefined) return found;
  }
  return undefined;
}

/** An instance by Eureka instance id alone (`GET /instances/{id}`), in any application. */
export async function findInstanceById(
  registry: Registry,
  namespace: string,
  eurekaId: string,
): Promise<ServiceInstance | undefined> {
  return (await registry.instances({ namespace, status: 'ALL' })).find((i) => eurekaIdOf(i) === eurekaId);
}
