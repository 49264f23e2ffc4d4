import * as z from 'zod/mini';
import { InvalidArgumentError, type ValidationIssue } from '../errors/specific.js';
import { parseSpiffeId, type SpiffeId } from '../identity/spiffe-id.js';
import { ServiceNameSchema, TagsSchema } from '../model/instance.js';
import { ruleIssues } from '../rules/parse.js';
import type { AuthzRequest } from './request.js';

const HeaderValueSchema = z.union([z.string(), z.array(z.string())]);

/**
 * A request described in JSON (`POST /v1/authorization/explain`, the dashboard's explain panel):
 * the peer's identity is written as its SPIFFE ID string.
 */
const AuthzRequestInputSchema = z.strictObject({
  destination: ServiceNameSchema,
  method: z.optional(z.string()),
  path: z.optional(z.string()),
  headers: z.optional(z.record(z.string(), HeaderValueSchema)),
  peer: z.optional(
    z.strictObject({
      ip: z.optional(z.string()),
      identity: z.optional(z.string()),
      tags: z.optional(TagsSchema),
    }),
  ),
});

/**
 * Reads a described request: `{destination, method?, path?, headers?, peer?: {ip?, identity?:
 * "spiffe://…", tags?}}`. Header names are lower-cased.
 *
 * @throws InvalidArgumentError naming every bad field (`peer.identity.trustDomain`, …).
 */
export function parseAuthzRequest(input: unknown, what = 'authorization request'): AuthzRequest {
  const result = AuthzRequestInputSchema.safeParse(input, { reportInput: true });
  if (!result.success) throw new InvalidArgumentError(what, ruleIssues(result.error.issues));
  const { destination, method, path, headers, peer } = result.data;
  const issues: ValidationIssue[] = [];
  let identity: SpiffeId | undefined;
  if (peer?.identity !== undefined) {
    try {
      identity = parseSpiffeId(peer.identity, 'peer.identity');
    } catch (err) {
      if (!(err instanceof InvalidArgumentError)) throw err;
      issues.push(...err.issues);
    }
  }
  if (issues.length > 0) throw new InvalidArgumentError(what, issues);
  const lowered =
    headers === undefined
      ? undefined
      : Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v] as const));
  return {
    destination,
    method,
    path,
    headers: lowered,
    peer: peer === undefined ? undefined : { ip: peer.ip, identity, tags: peer.tags },
  };
}
