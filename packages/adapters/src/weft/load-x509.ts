import type * as X509Module from '@peculiar/x509';
import { importPeer } from '../internal/peer.js';

/** The @peculiar/x509 version range `WorkloadIdentity` is written and tested against. */
export const X509_RANGE = '^2.2.0';
/** The reflect-metadata range @peculiar/x509's dependency-injection container (tsyringe) needs. */
export const REFLECT_METADATA_RANGE = '^0.2.2';

let loaded: Promise<typeof X509Module> | undefined;

/**
 * Loads `@peculiar/x509` (an optional peer dependency) on first use, after `reflect-metadata`,
 * the `Reflect.getMetadata` polyfill its container requires. Node's crypto cannot build a
 * PKCS#10 request; @peculiar/x509 does, on WebCrypto, so the key pair is node's and never leaves
 * the process. Without either package, rejects with `WEFT_ERR_MISSING_PEER_DEPENDENCY`.
 */
export function loadX509(): Promise<typeof X509Module> {
  loaded ??= (async () => {
    await importPeer('reflect-metadata', 'workload identity', REFLECT_METADATA_RANGE, () => import('reflect-metadata'));
    return importPeer('@peculiar/x509', 'workload identity', X509_RANGE, () => import('@peculiar/x509'));
  })().catch((err: unknown) => {
    loaded = undefined;
    throw err;
  });
  return loaded;
}
