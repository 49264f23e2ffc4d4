/**
 * One registration of the app, done once closed: `RegistrationClient` (Weft's registry) or
 * `StoreRegistration` (Consul, etcd). Both retry `start()` while the registry is away, heartbeat,
 * register again when the registry lost the instance, and deregister on `close()`.
 */
export interface AppRegistration {
  start(): Promise<{ readonly id: string }>;
  close(): Promise<void>;
  on(event: 'registered', listener: (instance: { readonly id: string }) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
}

/** Where the app's registration stands, for /health. */
export type RegistrationState =
  /** Not registered: not started, unhealthy, or stopped. */
  | 'unregistered'
  /** Registering (retrying with backoff while the registry is away). */
  | 'registering'
  | 'registered'
  /** Deregistering after the app turned unhealthy, or on stop. */
  | 'deregistering';

export interface RegistrationStatus {
  readonly state: RegistrationState;
  /** The instance id, while registered. */
  readonly id: string | undefined;
  /** Why it is in this state (`healthy`, `unhealthy`, `no health checks`, `stopping`). */
  readonly reason: string;
  /** When the state last changed, ms since the epoch. */
  readonly since: number;
  /** The last registry failure, if any since the last success. */
  readonly lastError: string | undefined;
  /** Times the app was registered, including re-registrations after a 410. */
  readonly registrations: number;
}

/**
 * Keeps the app registered exactly while it is healthy. Unhealthy → **deregistered** (DELETE),
 * healthy again → registered anew, as Amalgam8's sidecar did: a deregistered instance is gone
 * from every sidecar's pool at once, where OUT_OF_SERVICE would leave it listed (and depend on
 * every reader filtering by status). Each registration is its own `AppRegistration` (a
 * client is done once closed); transitions run one at a time, the latest wish winning.
 */
export class GatedRegistration {
  private client: AppRegistration | undefined;
  private wanted = false;
  private stopped = false;
  private chain: Promise<void> = Promise.resolve();
  private status: RegistrationStatus = {
    state: 'unregistered',
    id: undefined,
    reason: 'starting',
    since: Date.now(),
    lastError: undefined,
    registrations: 0,
  };

  constructor(
    private readonly create: () => AppRegistration,
    private readonly log: (message: string) => void,
  ) {}

  /** The current status (a copy). */
  get current(): RegistrationStatus {
    return this.status;
  }

  /** Registers when `healthy`, deregisters otherwise; `reason` is shown in /health. */
  want(healthy: boolean, reason: string): void {
    if (this.stopped) return;
    this.wanted = healthy;
    this.chain = this.chain.then(() => this.settle(reason));
  }

  /** Deregisters for good (on stop), within the client's request timeout. */
  stop(): Promise<void> {
    this.stopped = true;
    this.wanted = false;
    this.chain = this.chain.then(() => this.settle('stopping'));
    return this.chain;
  }

  private set(state: RegistrationState, reason: string, extra: Partial<RegistrationStatus> = {}): void {
    this.status = { ...this.status, state, reason, since: Date.now(), ...extra };
  }

  private async settle(reason: string): Promise<void> {
    if (this.wanted && this.client === undefined) {
      const client = this.create();
      this.client = client;
      client.on('registered', (instance) => {
        // A late answer of a client already being closed says nothing about the current state.
        if (this.client !== client) return;
        this.set('registered', reason, {
          id: instance.id,
          lastError: undefined,
          registrations: this.status.registrations + 1,
        });
      });
      client.on('error', (error) => {
        this.status = { ...this.status, lastError: error.message };
      });
      this.set('registering', reason);
      // start() retries until the registry has it; not awaited, so an unhealthy turn (or a stop)
      // during a long outage is not queued behind it: close() below ends the attempt.
      client.start().then(
        (instance) => this.log(`registered ${instance.id} (${reason})`),
        (error: unknown) => {
          if (this.client === client) {
            this.set('unregistered', 'refused', { lastError: (error as Error).message });
            this.log(`registration refused: ${(error as Error).message}`);
          }
        },
      );
      return;
    }
    if (!this.wanted && this.client !== undefined) {
      const client = this.client;
      this.client = undefined;
      this.set('deregistering', reason);
      await client.close().catch(() => undefined);
      this.set('unregistered', reason, { id: undefined });
      this.log(`deregistered (${reason})`);
    }
  }
}
