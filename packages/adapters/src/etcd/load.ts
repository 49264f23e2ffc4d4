import type * as Etcd3Module from 'etcd3';
import { importPeer } from '../internal/peer.js';

/** The etcd3 version range this adapter is written and tested against. */
export const ETCD3_RANGE = '^1.1.2';

let loaded: Promise<typeof Etcd3Module> | undefined;

/**
 * Loads the `etcd3` peer dependency on first use. Without it, rejects with a
 * `WEFT_ERR_MISSING_PEER_DEPENDENCY` error that says what to install.
 */
export function loadEtcd3(): Promise<typeof Etcd3Module> {
  loaded ??= importPeer('etcd3', 'etcd', ETCD3_RANGE, async () => {
    const mod = (await import('etcd3')) as typeof Etcd3Module & { default?: typeof Etcd3Module };
    // etcd3 is CommonJS: named exports normally come through, `default` is the fallback.
    return mod.Etcd3 !== undefined ? mod : (mod.default as typeof Etcd3Module);
  }).catch((err: unknown) => {
    loaded = undefined; // let a later call try again (e.g. after `npm install etcd3`)
    throw err;
  });
  return loaded;
}
