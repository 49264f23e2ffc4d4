import type { Registry, Source } from '@weft/core';

/**
 * An instance the kit asks a fixture to put into its backend. The adapter must then report a
 * `ServiceInstance` of `service` whose endpoint is `host:port` and whose tags include every tag
 * given (adapters may add tags of their own). Tags are always `key=value`, the form every backend
 * can carry (Consul tags, Kubernetes labels, Weave labels).
 */
export interface TestRecord {
  /** Service name: lowercase letters, digits and `-`, unique per test case. */
  readonly service: string;
  /** A short name for the record, unique within its service (`a`, `b2`): a container id, a pod name, a key. */
  readonly name: string;
  /** An IPv4 address (`10.x.y.z`). */
  readonly host: string;
  readonly port: number;
  /** `key=value` tags. */
  readonly tags: readonly string[];
}

/** A warning as the kit needs to see it (the shape of the adapters' `AdapterWarning`). */
export interface WarningLike {
  /** A stable code, `UPPER_SNAKE_CASE`. */
  readonly code: string;
  readonly message: string;
  /** The key or object the warning is about; the kit also accepts the key named in `message`. */
  readonly object?: string;
}

/**
 * What the kit needs to test a read-only (or read-write) {@link Source}: the source itself, a way
 * to change the backend behind it as the real system would, and the faults to inject.
 */
export interface SourceFixture {
  /** The source under test; the kit subscribes to it (several times). */
  readonly source: Source;
  /** Creates or replaces `record` in the backend; resolves once the server acknowledged the write. */
  upsert(record: TestRecord): Promise<void>;
  /** Removes `record` from the backend; resolves once the server acknowledged it. */
  remove(record: TestRecord): Promise<void>;
  /**
   * Restarts the server behind the source (same data), resolving once it serves again. For a
   * backend without a server (a file), do the nearest thing: make it unavailable for a moment.
   */
  restartServer(): Promise<void>;
  /**
   * Optional: cuts the source off from its server and keeps it off (connections refused or
   * reset) while `upsert`/`remove` still reach the server directly. Resolves to a function that
   * lets the source reconnect. The kit then checks that the changes made in between arrive.
   */
  disconnect?(): Promise<() => Promise<void>>;
  /**
   * Optional: writes a malformed record (bad JSON, missing fields) for `service` beside the valid
   * ones, and resolves to the key or object name the adapter should name in its warning.
   */
  writeBadRecord?(service: string): Promise<{ key: string }>;
  /** Optional: the warnings the adapter raised so far (its `onWarning` callback collects them). */
  warnings?(): readonly WarningLike[];
  /** Frees everything the fixture created (not the server, if it is shared between cases). */
  close(): Promise<void>;
}

/** What the kit needs to test a {@link Registry}: the registry, and how its server is restarted. */
export interface RegistryFixture {
  /** The registry under test, fresh for this case. The kit does not close it; `close()` does. */
  readonly registry: Registry;
  /**
   * A source over the same backend (`EtcdSource` for `EtcdRegistry`); defaults to
   * `registrySource(registry)`.
   */
  readonly source?: Source;
  /** Restarts the server (same data), resolving once it serves again. */
  restartServer(): Promise<void>;
  /** Frees everything the fixture created, the registry included. */
  close(): Promise<void>;
}

/** Time bounds the kit holds an adapter to. */
export interface ConformanceOptions {
  /** How long a change may take to reach a snapshot in normal operation. Default 5 000 ms. */
  changeBoundMs?: number;
  /** How long a source may take to recover after a fault and deliver a later change. Default 30 000 ms. */
  recoveryBoundMs?: number;
  /** Prefix of the service names the kit creates, so cases never see each other's data. Default `kit`. */
  servicePrefix?: string;
}

/** One conformance case: run it with a fresh fixture; it throws on failure. */
export interface ConformanceCase<F> {
  /** What it checks, as a test name. */
  readonly name: string;
  /** A timeout the test runner should allow for it, in ms (the case enforces its own, smaller bounds). */
  readonly timeoutMs: number;
  run(fixture: F): Promise<void>;
}

/**
 * The optional abilities of a {@link SourceFixture}. A case that needs one is generated only when
 * it is declared here — and then fails loudly if the fixture lacks the hook.
 */
export interface SourceFeatures {
  /** The fixture implements `disconnect()`. */
  disconnect?: boolean;
  /** The fixture implements `writeBadRecord()` (and, ideally, `warnings()`). */
  badRecords?: boolean;
}

/** How a registry under test behaves; decides which expiry cases apply. */
export interface RegistryFeatures {
  /**
   * How registrations stay alive: `explicit` — an instance expires unless `renew()` is called
   * within its TTL (Amalgam8, the in-memory registry); `automatic` — the registry keeps it alive
   * itself (an etcd lease with keep-alive, a Consul session) until deregistered or closed.
   */
  renewal: 'explicit' | 'automatic';
  /** A short TTL (seconds) the registry accepts, for the expiry and renewal cases. Keep it small (1–3). */
  ttlSeconds: number;
}

/** A source under test, as the describe binding takes it. */
export interface SourceSuite {
  /** Runs once before the cases (start a server). */
  setup?(): Promise<void>;
  /** Runs once after the cases (stop the server). */
  teardown?(): Promise<void>;
  /** A fresh fixture per case. */
  create(): Promise<SourceFixture>;
  features?: SourceFeatures;
}

/** A registry under test, as the describe binding takes it. */
export interface RegistrySuite {
  setup?(): Promise<void>;
  teardown?(): Promise<void>;
  /** A fresh fixture (and registry) per case. */
  create(): Promise<RegistryFixture>;
  features: RegistryFeatures;
}

/**
 * The parts of a test framework the kit binds to: vitest and jest as they are
 * (`import * as vitest from 'vitest'`), node:test as `{describe, it, beforeAll: before, afterAll: after}`.
 */
export interface TestApi {
  describe(name: string, body: () => void): unknown;
  it(name: string, body: () => Promise<void>, timeoutMs?: number): unknown;
  beforeAll?(body: () => Promise<void> | void, timeoutMs?: number): unknown;
  afterAll?(body: () => Promise<void> | void, timeoutMs?: number): unknown;
}
