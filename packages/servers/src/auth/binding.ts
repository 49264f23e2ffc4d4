import { WeftError } from '@weft/core';

/**
 * A write the request's service binding does not allow (403, `WEFT_ERR_BINDING_FORBIDDEN`): its
 * credentials are bound to services (a JWT's services claim) and the write is of an instance of
 * another service (the registry), or of what belongs to the whole namespace — its rules and
 * authorization policies (the controller).
 */
export class BindingForbiddenError extends WeftError {
  constructor(message: string) {
    super('WEFT_ERR_BINDING_FORBIDDEN', message);
    this.name = 'BindingForbiddenError';
  }
}

/** What a binding check reads of a request: what `authenticate()` set on it. */
export interface BoundRequest {
  readonly namespace: string;
  /** `undefined`: namespace-wide credentials, which every check lets through. */
  readonly boundServices?: readonly string[] | undefined;
}

/** `these credentials are bound to service reviews in namespace team-a` (or `services a, b`). */
function bindingOf(services: readonly string[], namespace: string): string {
  const noun = services.length === 1 ? 'service' : 'services';
  return `these credentials are bound to ${noun} ${services.join(', ')} in namespace ${namespace}`;
}

/**
 * Refuses a write of an instance of `service` by credentials bound to other services, so a
 * workload cannot register, renew or remove another service's instances (and take its traffic).
 * `action` is the verb of the message: `registers`, `renews`, `deregisters`….
 *
 * @throws BindingForbiddenError naming the service and the binding.
 */
export function checkServiceWrite(request: BoundRequest, service: string, action: string): void {
  const services = request.boundServices;
  if (services === undefined || services.includes(service)) return;
  throw new BindingForbiddenError(
    `the request ${action} an instance of service ${service}: ${bindingOf(services, request.namespace)}`,
  );
}

/**
 * Refuses a write of something the whole namespace shares (`what`: its rules, its authorization
 * policies) by credentials bound to services: a workload's token must not reroute or open up
 * its neighbours' traffic. Namespace-wide credentials (an operator's) write it.
 *
 * @throws BindingForbiddenError naming what and the binding.
 */
export function checkNamespaceWrite(request: BoundRequest, what: string): void {
  const services = request.boundServices;
  if (services === undefined) return;
  throw new BindingForbiddenError(
    `the request writes the namespace's ${what}: ${bindingOf(services, request.namespace)}, and only namespace-wide credentials write them`,
  );
}
