// A random 96-bit process prefix and a counter: unique ids without a random draw per request
// (`randomUUID()` refills its entropy cache every 128 ids). Format: 24 hex, `-`, base-36 counter.
// The prefix comes from Math.random (V8 seeds it from the OS's entropy per process): ids need to
// be unique, not unguessable, and node:crypto would cost a sidecar ~3 MB of resident memory.
const hex8 = (): string =>
  Math.floor(Math.random() * 0x1_0000_0000)
    .toString(16)
    .padStart(8, '0');
// With the dash, so an id is one concatenation (a template of three parts makes two cons strings).
const prefix = `${hex8()}${hex8()}${hex8()}-`;
let counter = 0;

/** A new request id, unique across processes with overwhelming probability. */
export function nextRequestId(): string {
  counter = counter === Number.MAX_SAFE_INTEGER ? 1 : counter + 1;
  return prefix + counter.toString(36);
}
