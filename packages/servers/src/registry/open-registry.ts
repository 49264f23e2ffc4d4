import { MemoryRegistry, type Registry } from '@weft/core';
import { describeEtcd, etcdConnection } from '../etcd/config.js';
import { memoryRegistryOptions } from './owned-registry.js';
import type { RegistrySettings } from './server-options.js';

/**
 * Creates the registry a server's settings ask for: in memory (optionally saved to a file), or on
 * etcd — shared by every replica pointed at the same cluster and prefix, heartbeats renewing
 * etcd leases of the instances' TTLs. `what` names the options in errors (`control plane
 * options`), `path` the settings' place in them (`registry.`).
 *
 * @throws InvalidArgumentError naming each bad etcd setting or unreadable TLS/password file.
 */
export async function openOwnedRegistry(settings: RegistrySettings, what: string, path = ''): Promise<Registry> {
  const store = settings.store;
  if (store?.type !== 'etcd') return new MemoryRegistry(memoryRegistryOptions(settings));
  const connection = await etcdConnection(store, what, `${path}store`);
  const { ServedEtcdRegistry } = await import('./etcd-registry.js');
  const ttl = settings.ttl ?? {};
  return new ServedEtcdRegistry(
    {
      hosts: connection.hosts,
      clientOptions: connection.clientOptions,
      prefix: connection.prefix,
      requestTimeoutMs: connection.requestTimeoutMs,
      ttl: {
        ...(ttl.defaultSeconds === undefined ? {} : { defaultSeconds: ttl.defaultSeconds }),
        ...(ttl.minSeconds === undefined ? {} : { minSeconds: ttl.minSeconds }),
        ...(ttl.maxSeconds === undefined ? {} : { maxSeconds: ttl.maxSeconds }),
      },
    },
    describeEtcd(connection.hosts, connection.prefix),
  );
}
