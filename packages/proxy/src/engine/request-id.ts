import { randomBytes } from 'node:crypto';

// A random 96-bit process prefix and a counter: unique ids without a random draw per request
// (`randomUUID()` refills its entropy cache every 128 ids). Format: 24 hex, `-`, base-36 counter.
const prefix = randomBytes(12).toString('hex');
let counter = 0;

/** A new request id, unique across processes with overwhelming probability. */
export function nextRequestId(): string {
  counter = counter === Number.MAX_SAFE_INTEGER ? 1 : counter + 1;
  return `${prefix}-${counter.toString(36)}`;
}
