import { ControlPlaneRequestError, TransportUnavailableError } from './errors.js';

/**
 * The replicas of one control-plane server (stateless servers sharing one store) that a client
 * fails over between, and the one it uses now. The client stays on a replica while it answers
 * (sticky: its connections and its stream stay where they are) and moves to the next, in the
 * order given, when it fails; a whole round of failures in a row is the signal to back off.
 * Each follower and registration client keeps its own, so one subscription's failover does not
 * move another's stream.
 */
export class Replicas {
  private index = 0;
  /** Failures (and lagging answers) in a row since a replica last answered well. */
  private failedInRow = 0;

  constructor(readonly bases: readonly URL[]) {
    if (bases.length === 0) throw new TypeError('Replicas needs at least one base URL');
  }

  /** How many replicas there are. */
  get count(): number {
    return this.bases.length;
  }

  /** The replica in use. */
  get current(): URL {
    return this.bases[this.index] as URL;
  }

  /** Its position in the list. */
  get currentIndex(): number {
    return this.index;
  }

  /** The replica in use, for messages (its URL). */
  get label(): string {
    return this.current.href;
  }

  /** The replica in use answered: a later failure starts a new round. */
  succeeded(): void {
    this.failedInRow = 0;
  }

  /**
   * The replica in use failed (or lags behind): moves to the next one. True when this completes
   * a round — every replica failed in a row, so the caller should back off before the next try.
   * With a single replica every failure completes a round.
   */
  failover(): boolean {
    this.failedInRow++;
    this.index = (this.index + 1) % this.bases.length;
    return this.failedInRow % this.bases.length === 0;
  }
}

/**
 * Whether `err` is the replica's fault, so another replica may do better: no answer (refused,
 * reset, timed out), a 5xx, a 429 (it sheds load), or an event stream refused that way. A 4xx is
 * not: every replica serves the same API with the same configuration, and would say the same.
 */
export function isReplicaFault(err: unknown): boolean {
  if (err instanceof TransportUnavailableError) return err.transient;
  if (!(err instanceof ControlPlaneRequestError)) return false;
  return err.status === 0 || err.status >= 500 || err.status === 429;
}

/**
 * A replica answered with an older revision than one already seen: it lags behind the store
 * (or serves a store of its own). Its state is not delivered; the follower moves on.
 */
export class LaggingReplicaError extends Error {
  constructor(
    readonly replica: string,
    readonly revision: number,
    readonly held: number,
  ) {
    super(`the replica ${replica} serves revision ${revision}, older than revision ${held} already seen`);
    this.name = 'LaggingReplicaError';
  }
}
