import type { Registry } from '@weft/core';
import { type BoundRequest, checkServiceWrite } from '../auth/binding.js';

/**
 * Refuses a write by id (heartbeat, deregistration, status change) of an instance whose service is
 * outside the request's service binding: an id says nothing of its service (it is a hash), so the
 * instance is looked up. An id the namespace does not have passes, for the write to answer it as
 * it always has (410). Namespace-wide credentials pass at once, without a read.
 *
 * @throws BindingForbiddenError naming the instance's service and the binding.
 */
export async function checkInstanceWrite(
  registry: Registry,
  request: BoundRequest,
  id: string,
  action: string,
): Promise<void> {
  const services = request.boundServices;
  if (services === undefined) return;
  const namespace = request.namespace;
  // A workload renews its own instances: reading its services' lists answers that without
  // reading the whole namespace.
  for (const service of services) {
    const own = await registry.instances({ namespace, service, status: 'ALL' });
    if (own.some((instance) => instance.id === id)) return;
  }
  const other = (await registry.instances({ namespace, status: 'ALL' })).find((instance) => instance.id === id);
  if (other !== undefined) checkServiceWrite(request, other.service, action);
}
