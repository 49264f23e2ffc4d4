import type * as UndiciModule from 'undici';
import { importPeer } from '../internal/peer.js';

/** The undici version range this adapter is written and tested against (the one @weft/proxy uses). */
export const UNDICI_RANGE = '^8.12.4';

let loaded: Promise<typeof UndiciModule> | undefined;

/**
 * Loads the `undici` peer dependency on first use. The Weft adapter uses undici rather than the
 * global `fetch` so that its control-plane connections never go through whatever dispatcher the
 * application installed globally (a `MeshAgent`, typically), and so that it can close its own
 * sockets. Without undici, rejects with `WEFT_ERR_MISSING_PEER_DEPENDENCY`.
 */
export function loadUndici(): Promise<typeof UndiciModule> {
  loaded ??= importPeer('undici', 'weft', UNDICI_RANGE, () => import('undici')).catch((err: unknown) => {
    loaded = undefined; // let a later call try again (e.g. after `npm install undici`)
    throw err;
  });
  return loaded;
}
