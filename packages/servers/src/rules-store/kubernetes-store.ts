import { homedir } from 'node:os';
import { join } from 'node:path';
import type { KubernetesAuth, KubernetesRulesSource, KubernetesRulesUpdate } from '@weft/adapters/kubernetes';
import { ClosedError, InvalidArgumentError } from '@weft/core';
import type { Versioned, Watchable } from '../watch/types.js';
import { RulesStoreError } from './errors.js';
import { deepFreeze } from './prepare.js';
import { namespaceState } from './store-base.js';
import type { NamespaceRules, RulesStore, StoredRule, WriteResult } from './types.js';
import { NamespaceWatchers } from './watchers.js';

/** The `kubernetes` store as configuration (`controller.store.*`). */
export interface KubernetesStoreConfig {
  readonly type: 'kubernetes';
  /** A kubeconfig file. Default: `KUBECONFIG`, `~/.kube/config`, then the pod's service account. */
  readonly kubeconfig?: string | undefined;
  /** A context of the kubeconfig other than its current one. */
  readonly context?: string | undefined;
  /** Write each `Rule`'s verdict to its status. Default true. */
  readonly writeStatus?: boolean | undefined;
}

/** The client options of a {@link KubernetesStoreConfig}. */
export function kubernetesStoreOptions(config: KubernetesStoreConfig): KubernetesRulesStoreOptions {
  const context = config.context === undefined ? {} : { context: config.context };
  return {
    ...(config.kubeconfig !== undefined
      ? { auth: { kubeconfigPath: config.kubeconfig, ...context } }
      : config.context !== undefined
        ? { auth: { kubeconfigPath: process.env.KUBECONFIG ?? join(homedir(), '.kube', 'config'), ...context } }
        : {}),
    ...(config.writeStatus === undefined ? {} : { writeStatus: config.writeStatus }),
  };
}

/** Options of {@link KubernetesRulesStore}. */
export interface KubernetesRulesStoreOptions {
  /** How to reach the API server. Default: `KUBECONFIG`, `~/.kube/config`, then the pod's service account. */
  readonly auth?: KubernetesAuth | undefined;
  /** Write each `Rule`'s verdict to its status (`Accepted`). Default true (needs `patch` on `rules/status`). */
  readonly writeStatus?: boolean | undefined;
  /** How long a read of a namespace not followed yet waits for its first list. Default 10 000 ms. */
  readonly firstListTimeoutMs?: number | undefined;
  /** Receives errors thrown by watch listeners (default: a process warning). */
  readonly onListenerError?: ((error: unknown) => void) | undefined;
}

/**
 * A write to a read-only store (HTTP 405): the rules live in Kubernetes, and are changed there
 * (`kubectl apply`, GitOps); the controller only serves and pushes them.
 */
export class ReadOnlyStoreError extends RulesStoreError {
  readonly code = 'WEFT_ERR_STORE_READ_ONLY';
  readonly status = 405;
  readonly store: string;
  constructor(store: string) {
    super(
      `the rules store (${store}) is read-only: change the rules with kubectl (kind Rule, rules.weft.dev) or your GitOps tool`,
      [],
    );
    this.name = 'ReadOnlyStoreError';
    this.store = store;
  }

  override toJSON(): Record<string, unknown> {
    return { error: this.message, code: this.code, status: this.status, store: this.store };
  }
}

/** The store, or its Kubernetes namespace, could not list its rules (HTTP 503). */
export class KubernetesStoreUnavailableError extends RulesStoreError {
  readonly code = 'WEFT_ERR_STORE_UNAVAILABLE';
  readonly status = 503;
  constructor(what: string, cause: Error | undefined) {
    super(`the rules store (${what}) has not listed its rules${cause === undefined ? '' : `: ${cause.message}`}`, []);
    this.name = 'KubernetesStoreUnavailableError';
    this.cause = cause;
  }
}

/** A Kubernetes namespace name (an RFC 1123 label). */
const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Refuses a controller namespace that cannot be a Kubernetes namespace (400, rather than a list that fails). */
function checkNamespace(namespace: string): void {
  if (!NAMESPACE_NAME.test(namespace))
    throw new InvalidArgumentError('namespace', [
      {
        path: 'namespace',
        message: `${JSON.stringify(namespace)} is not a Kubernetes namespace name (lowercase letters, digits and '-', at most 63), as the kubernetes store needs`,
      },
    ]);
}

/** One followed namespace: its source subscription and latest state. */
interface Followed {
  state: Versioned<NamespaceRules> | undefined;
  lastError: Error | undefined;
  /** Settled by the first state. */
  readonly first: Promise<void>;
  readonly stop: () => void;
}

/**
 * The controller's rules read from Kubernetes `Rule` custom objects (`rules.weft.dev`, see
 * `@weft/adapters/kubernetes`): controller namespace `x` is Kubernetes namespace `x`, one object
 * per rule, the object's name its id. A namespace is followed (list + watch) from its first read
 * on, through a `KubernetesRulesSource`: invalid objects never reach the proxies, and their
 * status says why.
 *
 * **Read-only**: writes through the Amalgam8 API fail with {@link ReadOnlyStoreError} (405) —
 * Kubernetes has no transaction over several objects, so the store's atomic writes cannot be
 * kept; the rules are changed with kubectl or a GitOps tool, and reach the proxies from here.
 *
 * **Revisions** are the API server's resourceVersion of the last change seen (etcd's revision):
 * they only grow, across controller restarts too, and every replica reports the same one for
 * the same change, but they grow by more than one per change (the contract's "exactly one" does
 * not hold), and a namespace's first revision is the list's resourceVersion rather than 0.
 */
export class KubernetesRulesStore implements RulesStore {
  private readonly followed = new Map<string, Followed>();
  private readonly watchers: NamespaceWatchers;
  private readonly firstListTimeoutMs: number;
  private closed = false;
  private source: typeof KubernetesRulesSource | undefined;

  constructor(private readonly options: KubernetesRulesStoreOptions = {}) {
    this.firstListTimeoutMs = options.firstListTimeoutMs ?? 10_000;
    const report =
      options.onListenerError ??
      ((error: unknown) => process.emitWarning(`rules store watch listener failed: ${String(error)}`));
    this.watchers = new NamespaceWatchers(report);
  }

  /** How the store names itself in errors. */
  get description(): string {
    return 'kubernetes Rule objects';
  }

  async get(namespace: string): Promise<NamespaceRules> {
    return (await this.current(namespace)).value;
  }

  watch(namespace: string): Watchable<NamespaceRules> {
    return {
      current: () => this.current(namespace),
      subscribe: (listener, onEnd) => {
        checkNamespace(namespace);
        const followed = this.follow(namespace);
        let stop: (() => void) | undefined;
        let ended = false;
        // The watchers hand the current state at once: wait for the first list.
        followed.first.then(
          () => {
            if (ended || this.closed || followed.state === undefined) return;
            stop = this.watchers.subscribe(namespace, followed.state, listener, onEnd);
          },
          () => undefined,
        );
        return () => {
          ended = true;
          stop?.();
        };
      },
    };
  }

  add(): Promise<WriteResult> {
    return this.readOnly();
  }

  update(): Promise<WriteResult> {
    return this.readOnly();
  }

  replace(): Promise<WriteResult> {
    return this.readOnly();
  }

  delete(): Promise<WriteResult> {
    return this.readOnly();
  }

  /** Authorization policies have no custom resource yet: they cannot be set on this store. */
  authorize(): Promise<WriteResult> {
    return this.readOnly();
  }

  /** Resolves once the `default` namespace (or every one followed) has listed and is not failing. */
  async check(): Promise<void> {
    if (this.closed) throw new ClosedError('rules store');
    if (this.followed.size === 0) await this.current('default');
    for (const [namespace, f] of this.followed) {
      if (f.state === undefined) await this.current(namespace);
      else if (f.lastError !== undefined)
        throw new KubernetesStoreUnavailableError(`${this.description} in namespace ${namespace}`, f.lastError);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const f of this.followed.values()) f.stop();
    this.followed.clear();
    this.watchers.endAll(new ClosedError('rules store'));
  }

  private readOnly(): Promise<never> {
    if (this.closed) return Promise.reject(new ClosedError('rules store'));
    return Promise.reject(new ReadOnlyStoreError(this.description));
  }

  private async current(namespace: string): Promise<Versioned<NamespaceRules>> {
    if (this.closed) throw new ClosedError('rules store');
    checkNamespace(namespace);
    const f = this.follow(namespace);
    if (f.state !== undefined) return f.state;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new KubernetesStoreUnavailableError(
              `${this.description} in namespace ${namespace}, after ${this.firstListTimeoutMs} ms`,
              f.lastError,
            ),
          ),
        this.firstListTimeoutMs,
      );
    });
    try {
      await Promise.race([f.first, timeout]);
    } finally {
      clearTimeout(timer);
    }
    if (f.state === undefined) throw new ClosedError('rules store');
    return f.state;
  }

  /** Follows a namespace from now on (once). */
  private follow(namespace: string): Followed {
    const known = this.followed.get(namespace);
    if (known !== undefined) return known;
    let resolveFirst: () => void = () => undefined;
    let unsubscribe: (() => void) | undefined;
    let stopped = false;
    const f: Followed = {
      state: undefined,
      lastError: undefined,
      first: new Promise<void>((resolve) => {
        resolveFirst = resolve;
      }),
      stop: () => {
        stopped = true;
        unsubscribe?.();
        resolveFirst();
      },
    };
    this.followed.set(namespace, f);
    void this.sourceClass().then(
      (Source) => {
        if (stopped) return;
        const source = new Source({
          ...(this.options.auth === undefined ? {} : { auth: this.options.auth }),
          namespace,
          writeStatus: this.options.writeStatus ?? true,
          name: `controller-store:${namespace}`,
        });
        const sub = source.subscribe({
          next: (update: KubernetesRulesUpdate) => {
            const revision = update.revision ?? (f.state?.revision ?? 0) + 1;
            // Frozen as every store's snapshots are (they are shared by every reader).
            const rules = update.rules.map((r) => deepFreeze(structuredClone(r)) as StoredRule);
            f.state = namespaceState(namespace, revision, rules);
            f.lastError = undefined;
            resolveFirst();
            this.watchers.publish(f.state);
          },
          error: (error) => {
            f.lastError = error;
          },
          recovered: () => {
            f.lastError = undefined;
          },
        });
        unsubscribe = () => sub.unsubscribe();
      },
      (err: unknown) => {
        f.lastError = err instanceof Error ? err : new Error(String(err));
      },
    );
    return f;
  }

  /** `@weft/adapters/kubernetes`, loaded on first use (it needs the `@kubernetes/client-node` peer). */
  private async sourceClass(): Promise<typeof KubernetesRulesSource> {
    this.source ??= (await import('@weft/adapters/kubernetes')).KubernetesRulesSource;
    return this.source;
  }
}
