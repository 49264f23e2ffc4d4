/** Size limits of the instance model, the same as Amalgam8's registry so its clients keep working. */
export const Limits = Object.freeze({
  /** Service name, in UTF-8 bytes. */
  serviceNameBytes: 64,
  /** Endpoint value (`host:port` or a user-defined string), in UTF-8 bytes. */
  endpointValueBytes: 128,
  /** Status string, in UTF-8 bytes. */
  statusBytes: 32,
  /** Metadata serialised as JSON, in UTF-8 bytes. */
  metadataJsonBytes: 1024,
  /** One tag, in UTF-8 bytes. */
  tagBytes: 256,
  /** Tags on one instance. */
  tagsPerInstance: 64,
});

const encoder = new TextEncoder();

/** UTF-8 length of `s` without allocating when the string is ASCII (the common case). */
export function utf8Length(s: string): number {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) return encoder.encode(s).length;
  }
  return s.length;
}
