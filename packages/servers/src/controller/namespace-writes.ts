import { type BoundRequest, checkNamespaceWrite } from '../auth/binding.js';

/**
 * The route options of a write of what the whole namespace shares (`what`: its rules, its
 * authorization policies): an `onRequest` hook that refuses credentials bound to services (a
 * JWT's services claim) with 403 `WEFT_ERR_BINDING_FORBIDDEN`. A workload's token reads rules and
 * policies (its sidecar does) but must not reroute or open up its neighbours' traffic; only
 * namespace-wide (operator) credentials write them. The hook runs after authentication's (the
 * app's hooks run first, and none runs after a 401) and before the body is read.
 */
export function namespaceWrite(what: string): { onRequest: (request: BoundRequest) => Promise<void> } {
  return { onRequest: async (request) => checkNamespaceWrite(request, what) };
}
