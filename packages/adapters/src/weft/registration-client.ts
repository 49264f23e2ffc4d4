import {
  type BackoffOptions,
  type Clock,
  ClosedError,
  type InstanceStatus,
  InstanceStatusSchema,
  instanceId,
  parseOrThrow,
  type Registration,
  type RegistrationInput,
  RegistrationSchema,
  systemClock,
  type ValidationIssue,
} from '@weft/core';
import { EventEmitter } from 'eventemitter3';
import { BackoffState, WATCH_BACKOFF } from '../internal/backoff.js';
import { type AdapterLogger, asError, describeError, processWarningLogger } from '../internal/log.js';
import {
  type ControlPlaneConnectionOptions,
  checkMs,
  type ResolvedConnection,
  resolveConnection,
  throwIfIssues,
} from './connection-options.js';
import { hasStatus } from './errors.js';
import { ControlPlaneHttp } from './http.js';
import { type CallOptions, type RegisteredInstance, RegistryApi, toAmalgam8Body } from './registry-api.js';
import { isReplicaFault, Replicas } from './replicas.js';

/** Options of {@link RegistrationClient}. */
export interface RegistrationClientOptions extends ControlPlaneConnectionOptions {
  /**
   * The instance to register: `service`, `endpoint` (`{type, value: 'host:port'}` or
   * `{host, port}`), `tags`, `metadata`, `status` (default `UP`) and `ttl` in seconds (0 or absent:
   * the registry's default; the registry clamps it).
   */
  registration: RegistrationInput;
  /** Time between heartbeats, ms. Default: a third of the TTL the registry granted (Amalgam8's sidecar rule). */
  heartbeatIntervalMs?: number;
  /** Backoff between failed attempts while the registry is unreachable. Default 100 ms doubling to 5 s, full jitter. */
  backoff?: BackoffOptions;
  /** Name in logs. Default `registration:<service>@<endpoint>`. */
  name?: string;
  /** Where warnings go (registry unreachable, registration lost). Default: Node process warnings. */
  logger?: AdapterLogger;
  /** Clock for heartbeats and backoff; the system clock by default. */
  clock?: Clock;
}

/** Why the instance was (re-)registered. */
export type RegistrationReason =
  /** The first registration after `start()`. */
  | 'start'
  /** The registry answered a heartbeat with 410 Gone (it expired the instance, or restarted without it). */
  | 'gone'
  /** `setStatus()` changed the status. */
  | 'status';

/** Events of {@link RegistrationClient}. */
export interface RegistrationClientEvents {
  /** The registry accepted the registration. */
  registered: (instance: RegisteredInstance, reason: RegistrationReason) => void;
  /** A request failed; the client keeps trying (with backoff). */
  error: (error: Error) => void;
  /** `close()` removed the instance from the registry. */
  deregistered: (id: string) => void;
}

interface Waiter {
  /** The {@link RegistrationClient} generation the caller waits for. */
  generation: number;
  resolve(instance: RegisteredInstance): void;
  reject(error: Error): void;
}

/**
 * Keeps one instance registered with Weft's registry server (or an Amalgam8 registry) — the
 * Amalgam8 sidecar's registration agent, as a library:
 *
 * - `start()` registers (`POST /api/v1/instances`), retrying with backoff while the registry is
 *   unreachable or failing, and resolves once it is registered. A registration the registry
 *   rejects as invalid (400) is not retried: `start()` rejects with the registry's message.
 * - Heartbeats (`PUT …/heartbeat`) every third of the granted TTL; a failed one is retried with
 *   backoff, well inside the TTL.
 * - A heartbeat answered with 410 Gone (expired while the registry was unreachable, or a registry
 *   restarted without it) registers the instance again at once.
 * - `setStatus()` uses Weft's `PUT …/status` call; on a registry without it (Amalgam8's), it
 *   registers again with the new status (registration is idempotent: the same endpoint keeps its id).
 * - `close()` stops heartbeating and deregisters (`DELETE`), best effort, within the request timeout.
 * - Given several registry URLs (replicas sharing one store), every call goes to the replica in
 *   use; one that fails (no answer, a 5xx or 429) is left for the next at once, so a heartbeat
 *   lost on a dead replica is sent again to another well inside the TTL (each attempt's timeout
 *   leaves room to try them all). Backoff starts only after a whole round failed. A 410 from any
 *   replica registers again: the instance id is deterministic, the same on every replica.
 *
 * ```ts
 * const registration = new RegistrationClient({
 *   url: 'http://registry:8080',
 *   registration: { service: 'reviews', endpoint: { host: '10.0.0.7', port: 9080 }, tags: ['version=v2'] },
 * });
 * await registration.start();
 * process.once('SIGTERM', () => void registration.close());
 * ```
 */
export class RegistrationClient extends EventEmitter<RegistrationClientEvents> {
  readonly name: string;
  private readonly connection: ResolvedConnection;
  private readonly http: ControlPlaneHttp;
  private readonly api: RegistryApi;
  private readonly replicas: Replicas;
  private readonly logger: AdapterLogger;
  private readonly clock: Clock;
  private readonly backoff: BackoffState;
  private readonly fixedIntervalMs: number | undefined;
  private registration: Registration;
  private instance: RegisteredInstance | undefined;
  /** Set when the next step must (re-)register, and why. */
  private pending: RegistrationReason | undefined = 'start';
  private readonly stop = new AbortController();
  /** Aborted to cut a heartbeat wait short (a status change). */
  private wake = new AbortController();
  private loop: Promise<void> | undefined;
  private waiters: Waiter[] = [];
  private closing: Promise<void> | undefined;
  private failures = 0;
  /** A registration was sent (it may have reached the registry even if no answer came). */
  private attempted = false;
  /** Bumped by every `setStatus()`: a registration settles only the callers of its generation or older. */
  private generation = 0;
  /** Whether the registry has Weft's `PUT …/status` call; undefined until tried. */
  private statusCall: boolean | undefined;

  constructor(options: RegistrationClientOptions) {
    super();
    const issues: ValidationIssue[] = [];
    this.connection = resolveConnection(options, issues);
    checkMs(issues, 'heartbeatIntervalMs', options?.heartbeatIntervalMs, 10);
    const b = options?.backoff ?? {};
    checkMs(issues, 'backoff.baseMs', b.baseMs);
    checkMs(issues, 'backoff.maxMs', b.maxMs);
    throwIfIssues('registration client options', issues);
    this.registration = parseOrThrow(RegistrationSchema, options.registration, 'registration');
    this.name = options.name ?? `registration:${this.registration.service}@${this.registration.endpoint.value}`;
    this.fixedIntervalMs = options.heartbeatIntervalMs;
    this.logger = options.logger ?? processWarningLogger;
    this.clock = options.clock ?? systemClock;
    this.backoff = new BackoffState({ ...WATCH_BACKOFF, ...b });
    this.http = new ControlPlaneHttp(this.connection);
    this.api = new RegistryApi(this.http);
    this.replicas = new Replicas(this.connection.bases);
  }

  /** The registered instance's id, once registered. */
  get id(): string | undefined {
    return this.instance?.id;
  }

  /** The registry's last answer to a registration, or undefined before the first. */
  get current(): RegisteredInstance | undefined {
    return this.instance;
  }

  /**
   * Registers and starts heartbeating. Resolves once the registry has accepted the registration
   * (however long the registry takes to come up); rejects when it refuses it as invalid, or when
   * the client is closed first. Calling it again returns the same registration.
   */
  start(): Promise<RegisteredInstance> {
    if (this.stop.signal.aborted) return Promise.reject(new ClosedError(this.name));
    if (this.instance !== undefined && this.pending === undefined) return Promise.resolve(this.instance);
    const registered = this.nextRegistration();
    this.loop ??= this.run();
    return registered;
  }

  /**
   * Changes the instance's status (`UP`, `STARTING`, `OUT_OF_SERVICE`; an `OUT_OF_SERVICE`
   * instance stays listed but gets no traffic, and never expires). Resolves once the registry has it.
   */
  setStatus(status: InstanceStatus): Promise<RegisteredInstance> {
    if (this.stop.signal.aborted) return Promise.reject(new ClosedError(this.name));
    this.registration = { ...this.registration, status: parseOrThrow(InstanceStatusSchema, status, 'status') };
    this.generation++;
    if (this.loop === undefined) return this.start();
    this.pending = 'status';
    const registered = this.nextRegistration();
    this.wake.abort();
    return registered;
  }

  /**
   * Stops heartbeating and deregisters the instance (best effort: a registry that does not answer
   * within the request timeout lets the instance expire with its TTL instead).
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.stop.abort();
    await this.loop;
    for (const w of this.waiters.splice(0)) w.reject(new ClosedError(this.name));
    // A registration cut short by close() may still have reached the registry: its id is
    // deterministic (Amalgam8's sha256 of service/type/value), so it can be removed all the same.
    const r = this.registration;
    const id =
      this.instance?.id ?? (this.attempted ? instanceId(r.service, r.endpoint.type, r.endpoint.value) : undefined);
    try {
      if (id !== undefined) {
        try {
          await this.deregisterAnywhere(id);
          this.emit('deregistered', id);
        } catch (err) {
          // Gone already (expired, or the registry restarted without it): nothing left to remove.
          if (hasStatus(err, 404, 410)) this.emit('deregistered', id);
          else {
            this.logger.warn({
              code: 'WEFT_WARN_WEFT_REGISTRATION',
              message: `${this.name}: could not deregister ${id} (${describeError(err)}); it will expire with its TTL`,
              source: this.name,
              object: id,
              cause: err,
            });
            this.emit('error', asError(err));
          }
        }
      }
    } finally {
      await this.http.close();
    }
  }

  /**
   * `DELETE` on the replica in use, then on the next ones while they fail, each within its share
   * of the request timeout (so that close() takes about one request timeout however many there are).
   */
  private async deregisterAnywhere(id: string): Promise<void> {
    const timeoutMs = Math.max(1_000, this.connection.requestTimeoutMs / this.replicas.count);
    for (let tried = 1; ; tried++) {
      try {
        await this.api.deregister(id, { timeoutMs, base: this.replicas.current });
        return;
      } catch (err) {
        if (tried >= this.replicas.count || !isReplicaFault(err)) throw err;
        this.replicas.failover();
      }
    }
  }

  private nextRegistration(): Promise<RegisteredInstance> {
    return new Promise((resolve, reject) => this.waiters.push({ generation: this.generation, resolve, reject }));
  }

  private async run(): Promise<void> {
    const signal = this.stop.signal;
    while (!signal.aborted) {
      let pause: number;
      try {
        pause = this.pending !== undefined ? await this.register(this.pending) : await this.heartbeat();
        this.failures = 0;
        this.backoff.reset();
        this.replicas.succeeded();
      } catch (err) {
        if (signal.aborted) return;
        if (this.pending === 'start' && hasStatus(err, 400)) {
          // The registry says the registration itself is wrong: retrying cannot help. A later
          // start() tries again (after the registry's configuration changed, say).
          this.fail(asError(err), 'the registry rejected the registration');
          for (const w of this.waiters.splice(0)) w.reject(asError(err));
          this.loop = undefined;
          return;
        }
        if (this.pending === undefined && hasStatus(err, 404, 410)) {
          this.logger.warn({
            code: 'WEFT_WARN_WEFT_REGISTRATION',
            message: `${this.name}: the registry no longer knows ${this.instance?.id} (${describeError(err)}); registering again`,
            source: this.name,
            ...(this.instance === undefined ? {} : { object: this.instance.id }),
          });
          this.pending = 'gone';
          continue;
        }
        const what = this.pending !== undefined ? 'registration' : 'heartbeat';
        if (this.replicas.count > 1 && isReplicaFault(err) && !this.failover(asError(err), what)) pause = 0;
        else {
          this.fail(asError(err), `${what} failed`);
          // Retry soon: a heartbeat retried only at the next interval would risk the TTL.
          pause = Math.min(this.backoff.next(), this.intervalMs());
        }
      }
      try {
        await this.clock.sleep(pause, AbortSignal.any([signal, this.wake.signal]));
      } catch {
        if (this.wake.signal.aborted) this.wake = new AbortController(); // woken early; go on
      }
    }
  }

  /**
   * Registers (or, for a status change, uses the registry's status call when it has one);
   * resolves to the pause before the next heartbeat.
   */
  private async register(reason: RegistrationReason): Promise<number> {
    this.attempted = true;
    const call: CallOptions = {
      base: this.replicas.current,
      signal: this.stop.signal,
      timeoutMs: this.connection.requestTimeoutMs,
    };
    const generation = this.generation;
    const known = this.instance;
    if (reason === 'status' && known !== undefined && this.statusCall !== false) {
      try {
        await this.api.setStatus(known.id, this.registration.status, call);
        this.statusCall = true;
        return this.registered(known, reason, generation);
      } catch (err) {
        // No such call (an Amalgam8 registry): registering again changes the status there.
        if (hasStatus(err, 404, 405, 501)) this.statusCall = false;
        // Gone (expired meanwhile): registering again with the new status brings it back.
        else if (!hasStatus(err, 410)) throw err;
      }
    }
    const instance = await this.api.register(toAmalgam8Body(this.registration), call);
    this.instance = instance;
    return this.registered(instance, reason, generation);
  }

  /** Settles the waiters of a registration that the registry now has; the pause before the next heartbeat. */
  private registered(instance: RegisteredInstance, reason: RegistrationReason, generation: number): number {
    // A status change that came in while this request was in flight still needs its own.
    if (this.generation === generation) this.pending = undefined;
    else this.pending = 'status';
    const settled = this.waiters.filter((w) => w.generation <= generation);
    this.waiters = this.waiters.filter((w) => w.generation > generation);
    for (const w of settled) w.resolve(instance);
    this.emit('registered', instance, reason);
    return this.intervalMs();
  }

  /** Sends one heartbeat; resolves to the pause before the next. */
  private async heartbeat(): Promise<number> {
    const id = this.instance?.id as string;
    const interval = this.intervalMs();
    await this.api.heartbeat(id, {
      base: this.replicas.current,
      signal: this.stop.signal,
      timeoutMs: this.heartbeatTimeoutMs(interval),
    });
    return interval;
  }

  /**
   * How long one heartbeat may wait for its answer: within the interval, and short enough that,
   * replica after hung replica, every one is tried in what is left of the TTL after the interval
   * (with one replica: the interval, or the request timeout if shorter).
   */
  private heartbeatTimeoutMs(interval: number): number {
    const { requestTimeoutMs } = this.connection;
    const share = (this.ttlSeconds() * 1000 - interval) / this.replicas.count;
    // A floor, so that a tiny TTL does not make every answer too late.
    return Math.round(Math.max(Math.min(requestTimeoutMs, interval, share), Math.min(requestTimeoutMs, 500)));
  }

  /** The TTL granted; else the one asked for; else Amalgam8's registry default, 30 s. */
  private ttlSeconds(): number {
    const granted = this.instance?.ttl ?? 0;
    return granted > 0 ? granted : this.registration.ttl > 0 ? this.registration.ttl : 30;
  }

  private intervalMs(): number {
    return this.fixedIntervalMs ?? (this.ttlSeconds() * 1000) / 3;
  }

  /** Moves to the next replica after a failed call; true when a whole round has failed (then back off). */
  private failover(error: Error, what: string): boolean {
    const from = this.replicas.label;
    const round = this.replicas.failover();
    this.logger.debug?.(
      `${this.name}: ${what} failed on the replica ${from} (${describeError(error)}); trying ${this.replicas.label}`,
      { replica: from, next: this.replicas.label },
    );
    return round;
  }

  private fail(error: Error, what: string): void {
    if (this.failures++ === 0)
      this.logger.warn({
        code: 'WEFT_WARN_WEFT_REGISTRATION',
        message: `${this.name}: ${what} (${describeError(error)}); retrying with backoff`,
        source: this.name,
        cause: error,
      });
    // eventemitter3 does not throw for an unheard 'error': listening is optional.
    this.emit('error', error);
  }
}
