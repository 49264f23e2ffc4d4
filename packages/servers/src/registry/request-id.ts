import { randomInt } from 'node:crypto';

/** Letters of the server's random name, as Amalgam8's trace middleware drew them. */
const LETTERS = 'abcABCdefDEFghiGHIjklJKLmnopMNOPqrstuvwxyzQRSTUVWXYZ';

/**
 * Request ids in the form and header of Amalgam8's registry (registry/server/middleware/trace.go):
 * `Request_id: <10 random letters per server>_<unix time, ns>_<request number>` on every answer.
 * Amalgam8's client looked for `SD-Request-ID` instead and never found it; clients depend on
 * nothing here, but logs and support scripts that grep for it keep working.
 */
export function requestIds(): () => string {
  let name = '';
  for (let i = 0; i < 10; i++) name += LETTERS[randomInt(LETTERS.length)];
  let n = 0;
  // Milliseconds are what a JS clock gives; the id only has to be unique and ordered.
  return () => `${name}_${Date.now()}000000_${++n}`;
}

/** The response header (Go canonicalised Amalgam8's `REQUEST_ID` to this). */
export const REQUEST_ID_HEADER = 'request_id';
