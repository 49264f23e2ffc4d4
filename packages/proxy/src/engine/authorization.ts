import { Authorizer, type AuthzPeer, compileAuthorization } from '@weft/core';
import { ForbiddenError } from '../errors.js';

/**
 * What a proxy's `authorization` option (and `setAuthorization`) takes: a compiled
 * {@link Authorizer}, an authorization document (`{defaultAction?, policies}`, validated here), or
 * undefined for none.
 */
export type AuthorizationInput =
  | Authorizer
  | { readonly policies: readonly unknown[]; readonly defaultAction?: string };

/**
 * Compiles an `authorization` option once, up front (so a bad policy fails the call that set
 * it, naming the field, rather than every request).
 *
 * @throws InvalidArgumentError naming every bad field of a document.
 */
export function toAuthorizer(input: AuthorizationInput | undefined): Authorizer | undefined {
  if (input === undefined) return undefined;
  return input instanceof Authorizer ? input : compileAuthorization(input);
}

/** What the authorization check reads of a call. */
export interface AuthorizedCall {
  readonly service: string;
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  readonly header: (name: string) => string | undefined;
  readonly peer: AuthzPeer;
}

/**
 * Judges a call that entered through a front end. Returns the refusal to answer with (403), or
 * undefined when the call may go on.
 */
export function authorize(authorizer: Authorizer, call: AuthorizedCall): ForbiddenError | undefined {
  const decision = authorizer.decide({
    destination: call.service,
    method: call.method,
    path: call.path,
    header: call.header,
    peer: call.peer,
  });
  if (decision.allowed) return undefined;
  return new ForbiddenError(`${call.method} ${call.service}${call.path} refused: ${decision.reason}`, decision, {
    service: call.service,
    requestId: call.requestId,
  });
}
