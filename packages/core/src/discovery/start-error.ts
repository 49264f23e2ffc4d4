import { brandErrorClass, WeftError, type WeftErrorOptions } from '../errors/index.js';

/** A source that failed before it delivered anything, as {@link SourcesFailedError} lists it. */
export interface FailedSource {
  /** The source's `name` (`etcd:/weft`, `consul`, …). */
  readonly source: string;
  /** Its latest failure, such as a `WEFT_ERR_MISSING_PEER_DEPENDENCY` error. */
  readonly error: Error;
}

/**
 * `Discovery.ready()` rejects with this (code `WEFT_ERR_SOURCE_FAILED`) when sources failed
 * before their first snapshot, so they have nothing to serve: a missing adapter peer
 * (`npm install etcd3`), bad credentials, a server that is down. It names every such source
 * with its error (`cause` is the first one). Discovery keeps running and the sources keep
 * retrying; a caller that can serve without them catches this and goes on.
 */
export class SourcesFailedError extends WeftError {
  static {
    brandErrorClass(SourcesFailedError, 'SourcesFailedError');
  }

  /** Every source that failed before its first snapshot, in the order Discovery was given them. */
  readonly failures: readonly FailedSource[];

  constructor(failures: readonly FailedSource[], options: WeftErrorOptions = {}) {
    const list = failures.map((f) => `${f.source}: ${f.error.message}`).join('; ');
    super('WEFT_ERR_SOURCE_FAILED', `Discovery sources failed before their first snapshot: ${list}`, {
      cause: failures[0]?.error,
      ...options,
    });
    this.name = 'SourcesFailedError';
    this.failures = Object.freeze([...failures]);
  }

  override toJSON(): Record<string, unknown> {
    return {
      ...super.toJSON(),
      failures: this.failures.map((f) => ({ source: f.source, message: f.error.message })),
    };
  }
}
