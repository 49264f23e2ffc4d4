import type { MemoryRegistry, MemoryRegistryOptions } from '@weft/core';
import type { FastifyBaseLogger } from 'fastify';
import type { RegistrySettings } from './server-options.js';

/** The options of the memory registry a server creates, from its plain settings. */
export function memoryRegistryOptions(settings: RegistrySettings): MemoryRegistryOptions {
  const { store, ttl, capacity } = settings;
  const out: MemoryRegistryOptions = {};
  if (ttl !== undefined)
    out.ttl = {
      ...(ttl.defaultSeconds === undefined ? {} : { defaultSeconds: ttl.defaultSeconds }),
      ...(ttl.minSeconds === undefined ? {} : { minSeconds: ttl.minSeconds }),
      ...(ttl.maxSeconds === undefined ? {} : { maxSeconds: ttl.maxSeconds }),
    };
  if (capacity !== undefined) out.capacity = capacity;
  if (store?.type === 'file') {
    out.snapshotFile = store.path;
    if (store.debounceMs !== undefined) out.snapshotDebounceMs = store.debounceMs;
  }
  return out;
}

/**
 * Logs the failed background writes of a registry's snapshot file: the write is retried with the
 * next change, but meanwhile the failure must not go unseen.
 */
export function logSnapshotErrors(registry: MemoryRegistry, log: FastifyBaseLogger): void {
  registry.on('snapshotError', (err) => log.error({ err }, 'writing the registry snapshot file failed'));
}
