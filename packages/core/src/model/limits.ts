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
  /**
   * Levels of objects and arrays in metadata, the metadata object itself being level 1. Checked
   * without recursion before anything else looks at the value: deeper values would overflow the
   * call stack of recursive validators. Amalgam8 had no such limit; 1024 bytes of JSON cannot
   * usefully nest deeper anyway.
   */
  metadataDepth: 32,
  /**
   * Values (objects, arrays, scalars) in the metadata of an instance read back from a store
   * (`ServiceInstanceSchema`, `Amalgam8InstanceSchema`), which has no byte limit of its own: a
   * bound on the work of checking it. Registrations are bounded by `metadataJsonBytes`.
   */
  instanceMetadataValues: 65_536,
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
