import type * as X509Module from '@peculiar/x509';

let loaded: Promise<typeof X509Module> | undefined;

/**
 * Loads `@peculiar/x509` on first use. Node's crypto verifies certificates but cannot issue them
 * or requests; @peculiar/x509 builds both on WebCrypto (`globalThis.crypto`, so the keys stay
 * node's) over its own ASN.1 schemas. It is loaded only when an identity is issued or requested —
 * it weighs ~20 modules a control plane without identities never needs at start-up — together
 * with `reflect-metadata`, the `Reflect.getMetadata` polyfill its dependency-injection container
 * (tsyringe) requires: it only adds the `Reflect.*Metadata` functions, and only in a process that
 * uses identities.
 */
export function loadX509(): Promise<typeof X509Module> {
  loaded ??= (async () => {
    await import('reflect-metadata');
    return import('@peculiar/x509');
  })().catch((err: unknown) => {
    loaded = undefined;
    throw err;
  });
  return loaded;
}
