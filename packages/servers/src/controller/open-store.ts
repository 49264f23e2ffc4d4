import { InvalidArgumentError } from '@weft/core';
import { etcdConnection } from '../etcd/config.js';
import type { EtcdStoreState } from '../rules-store/etcd-store.js';
import { FileRulesStore } from '../rules-store/file-store.js';
import { MemoryRulesStore } from '../rules-store/memory-store.js';
import type { RulesStore } from '../rules-store/types.js';
import type { ControllerStoreConfig } from './server-options.js';

/**
 * Creates the store a configuration names (a file store is loaded, an etcd store listed, before
 * this resolves). `onStateChange` hears an etcd store's connection state (for the logs).
 */
export async function openRulesStore(
  config: ControllerStoreConfig = { type: 'memory' },
  onStateChange?: (state: EtcdStoreState) => void,
): Promise<RulesStore> {
  switch (config.type) {
    case 'memory':
      return new MemoryRulesStore();
    case 'file':
      if (typeof config.path !== 'string' || config.path === '')
        throw new InvalidArgumentError('controller options', [
          { path: 'store.path', message: 'is required for a file store' },
        ]);
      return FileRulesStore.open(config.path);
    case 'etcd': {
      const connection = await etcdConnection(config, 'controller options', 'store');
      const { EtcdRulesStore } = await import('../rules-store/etcd-store.js');
      return EtcdRulesStore.open({
        hosts: connection.hosts,
        clientOptions: connection.clientOptions,
        prefix: connection.prefix,
        requestTimeoutMs: connection.requestTimeoutMs,
        ...(onStateChange === undefined ? {} : { onStateChange }),
      });
    }
    case 'kubernetes': {
      const { KubernetesRulesStore, kubernetesStoreOptions } = await import('../rules-store/kubernetes-store.js');
      return new KubernetesRulesStore(kubernetesStoreOptions(config));
    }
    default:
      throw new InvalidArgumentError('controller options', [
        {
          path: 'store.type',
          message: `must be memory, file, etcd or kubernetes (got ${JSON.stringify((config as { type: unknown }).type)})`,
        },
      ]);
  }
}
