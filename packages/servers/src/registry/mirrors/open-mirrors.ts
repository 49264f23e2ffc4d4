import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Source } from '@weft/core';
import type { MirrorConfig, MirrorSourceConfig } from '../../config/mirrors-settings.js';
import { mirrorName } from '../../config/mirrors-settings.js';
import { ExternalFileSource } from './file-source.js';
import type { MirrorSpec } from './mirror.js';

/**
 * A mirror as `createRegistryServer` takes it: the plain data of the config file, or — when
 * embedding — any discovery {@link Source} of your own as `source` (its `name` is stamped as
 * `weft.source`).
 */
export type RegistryMirrorOptions =
  | MirrorConfig
  | {
      readonly name?: string | undefined;
      readonly namespace?: string | undefined;
      readonly services?: readonly string[] | undefined;
      readonly source: Source;
    };

/** Where the adapters' coded warnings (a skipped instance, a relist) go. */
export interface MirrorLogger {
  warn(details: Record<string, unknown>, message: string): void;
}

/** True for a live source object rather than a source's settings. */
export function isLiveSource(source: unknown): source is Source {
  return (
    typeof source === 'object' &&
    source !== null &&
    typeof (source as { subscribe?: unknown }).subscribe === 'function' &&
    typeof (source as { name?: unknown }).name === 'string'
  );
}

/**
 * Builds each mirror's source. The adapters are imported here, on first use, so a registry
 * without mirrors loads none of them (nor their client libraries, which they load lazily too).
 */
export async function openMirrors(mirrors: readonly RegistryMirrorOptions[], log: MirrorLogger): Promise<MirrorSpec[]> {
  const out: MirrorSpec[] = [];
  try {
    for (const mirror of mirrors) {
      const namespace = mirror.namespace ?? 'default';
      const services = mirror.services === undefined ? undefined : [...mirror.services];
      if (isLiveSource(mirror.source)) {
        const source = mirror.source;
        out.push({ name: mirrorName(mirror, source.name), namespace, type: source.name, source, services });
        continue;
      }
      const config = mirror.source as MirrorSourceConfig;
      const name = mirrorName(mirror, config.type);
      const opened = await openSource(config, name, services, log);
      out.push({ name, namespace, type: config.type, services, ...opened });
    }
  } catch (err) {
    await Promise.allSettled(out.map((m) => m.close?.()));
    throw err;
  }
  return out;
}

async function openSource(
  config: MirrorSourceConfig,
  name: string,
  services: readonly string[] | undefined,
  log: MirrorLogger,
): Promise<Pick<MirrorSpec, 'source' | 'close'>> {
  const logger = {
    warn: (w: { code: string; message: string; object?: string }) =>
      log.warn({ mirror: name, code: w.code, object: w.object }, w.message),
  };
  switch (config.type) {
    case 'file':
      return { source: new ExternalFileSource({ path: config.path, name }) };
    case 'consul': {
      const { ConsulSource } = await import('@weft/adapters/consul');
      const token = config.tokenFile === undefined ? undefined : await readSecret(config.tokenFile);
      const source = new ConsulSource({
        name,
        logger,
        ...(config.address === undefined ? {} : { address: config.address }),
        ...(config.datacenter === undefined ? {} : { datacenter: config.datacenter }),
        ...(token === undefined ? {} : { token }),
        ...(config.waitSeconds === undefined ? {} : { waitSeconds: config.waitSeconds }),
        ...(config.emptyAddress === undefined ? {} : { emptyAddress: config.emptyAddress }),
        ...(config.endpointType === undefined ? {} : { endpointType: config.endpointType }),
        ...(config.exclude === undefined ? {} : { exclude: config.exclude }),
        // Only the services mirrored are watched (one blocking query each), not the catalogue.
        ...(services === undefined ? {} : { services }),
      });
      return { source, close: () => source.close() };
    }
    case 'etcd': {
      const { EtcdSource } = await import('@weft/adapters/etcd');
      const source = new EtcdSource({
        name,
        logger,
        ...(config.hosts === undefined ? {} : { hosts: config.hosts }),
        ...(config.prefix === undefined ? {} : { prefix: config.prefix }),
        ...(config.namespace === undefined ? {} : { namespace: config.namespace }),
      });
      return { source, close: () => source.close() };
    }
    case 'kubernetes': {
      const { KubernetesSource } = await import('@weft/adapters/kubernetes');
      const context = config.context === undefined ? {} : { context: config.context };
      const auth =
        config.inCluster === true
          ? { inCluster: true as const }
          : config.kubeconfig !== undefined
            ? { kubeconfigPath: config.kubeconfig, ...context }
            : config.context !== undefined
              ? { kubeconfigPath: process.env.KUBECONFIG ?? join(homedir(), '.kube', 'config'), ...context }
              : undefined;
      const source = new KubernetesSource({
        name,
        logger,
        ...(auth === undefined ? {} : { auth }),
        ...(config.namespace === undefined ? {} : { namespace: config.namespace }),
        ...(config.labelSelector === undefined ? {} : { labelSelector: config.labelSelector }),
        ...(config.port === undefined ? {} : { port: config.port }),
        ...(config.podLabelsAsTags === undefined ? {} : { podLabelsAsTags: config.podLabelsAsTags }),
        ...(config.endpointType === undefined ? {} : { endpointType: config.endpointType }),
        ...(config.mtlsTrustDomain === undefined ? {} : { mtls: { trustDomain: config.mtlsTrustDomain } }),
        ...(services === undefined ? {} : { services }),
      });
      return { source };
    }
    case 'weave': {
      const { WeaveSource } = await import('@weft/adapters/weave');
      const source = new WeaveSource({
        name,
        logger,
        ...(config.endpoints === undefined ? {} : { endpoints: config.endpoints }),
        ...(config.root === undefined ? {} : { root: config.root }),
      });
      return { source, close: () => source.close() };
    }
  }
}

/** A secret from a file, without its trailing newline (what `echo … > file` leaves). */
async function readSecret(path: string): Promise<string> {
  return (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
}
