import {
  type BackoffOptions,
  type Clock,
  type CompileOptions,
  compile,
  InvalidArgumentError,
  type RuleSet,
  type Subscription,
  systemClock,
  type ValidationIssue,
} from '@weft/core';
import { WATCH_BACKOFF } from '../internal/backoff.js';
import { LazyClient } from '../internal/lazy.js';
import { type AdapterLogger, asError, describeError, processWarningLogger } from '../internal/log.js';
import { followInto, type RulesFollow, type RulesFollowOptions, type RulesTarget } from '../weft/rules-follow.js';
import type { RulesObserver, RulesUpdate } from '../weft/rules-source.js';
import { httpStatusOf, type KubernetesAuth } from './client.js';
import { keyOf, Reflector } from './reflector.js';
import {
  byCreation,
  type IdentifiedRule,
  type RuleObject,
  type RuleVerdict,
  ruleOfObject,
  statusFor,
} from './rule-objects.js';
import { createRulesApi, type RulesApi } from './rules-api.js';
import { WatchLoop } from './watch-loop.js';

/** Options of {@link KubernetesRulesSource}. */
export interface KubernetesRulesSourceOptions {
  /** How to reach and authenticate to the API server. Default: kubeconfig, then in-cluster. */
  auth?: KubernetesAuth;
  /** Namespace whose `Rule` objects are followed. Default: the kubeconfig context's namespace, else `default`. */
  namespace?: string;
  /** Name in logs. Default `kubernetes-rules:<namespace>`. */
  name?: string;
  /**
   * Write each object's verdict to its status subresource (`Accepted` condition, `ruleKind`,
   * `observedGeneration`). Default true. Needs `patch` on `rules/status`; without it a
   * `WEFT_WARN_K8S_RULE_STATUS` warning is logged once and the rules are followed regardless.
   */
  writeStatus?: boolean;
  /** How the rules are compiled (defaults for routes that do not say), as for `WeftRulesSource`. */
  compile?: Omit<CompileOptions, 'revision'>;
  /** Server-side lifetime of one watch request, in seconds (1..29). Default 25. */
  watchTimeoutSeconds?: number;
  /** Page size of lists. Default 500. */
  pageSize?: number;
  /** Backoff between attempts after a failure. Default 100 ms doubling to 5 s, full jitter. */
  backoff?: BackoffOptions;
  /** Where warnings go. Default: Node process warnings. */
  logger?: AdapterLogger;
  /** Clock for timers (backoff, list deadlines) and timestamps (status conditions); the system clock by default. */
  clock?: Clock;
}

/** A new rule set from Kubernetes: {@link RulesUpdate} plus the rules themselves, in creation order. */
export interface KubernetesRulesUpdate extends RulesUpdate {
  /** The rules in force, in the order their objects were created; each id is its object's name. */
  readonly rules: readonly IdentifiedRule[];
  /** The objects that are not valid rules now, by name, with their problems (also in their status). */
  readonly rejected: ReadonlyMap<string, readonly string[]>;
}

/** Receives a {@link KubernetesRulesSource}'s updates (the {@link RulesObserver} of `WeftRulesSource`, with the richer update). */
export interface KubernetesRulesObserver extends RulesObserver {
  next(update: KubernetesRulesUpdate): void;
}

interface Resolved {
  auth: KubernetesAuth | undefined;
  namespace: string | undefined;
  writeStatus: boolean;
  compile: Omit<CompileOptions, 'revision'>;
  watchTimeoutSeconds: number;
  pageSize: number;
  backoff: BackoffOptions;
  logger: AdapterLogger;
  clock: Clock;
}

/**
 * Follows the `Rule` custom objects (`rules.weft.dev`, see the package README) of a namespace —
 * list, then watch from the list's resourceVersion, relisting on 410 Gone, restarting with
 * backoff after any failure, as {@link KubernetesSource} does for EndpointSlices — and hands the
 * valid rules, compiled, to its subscribers: the same {@link RulesObserver} interface as
 * `WeftRulesSource`, so a `rulesRouter` (a `MeshAgent`, a sidecar) can follow rules straight from
 * Kubernetes.
 *
 * Every object is validated with core's rule parser. An invalid one never reaches the
 * subscribers: a new object is left out, an edited one keeps its last valid version in force
 * (until it is fixed or deleted), and its status says why (`Accepted=False`, reason
 * `InvalidRule`, the message naming each field: `spec.route.backends[0].weight: …`). Valid
 * objects get `Accepted=True`.
 *
 * The revision of an update is the API server's resourceVersion of the change (numeric with
 * etcd): it only grows, across restarts too, but by more than one.
 */
export class KubernetesRulesSource {
  readonly name: string;
  private readonly options: Resolved;
  private readonly api: LazyClient<RulesApi>;
  private readonly loops = new Set<RulesWatchLoop>();

  constructor(options: KubernetesRulesSourceOptions = {}) {
    const issues: ValidationIssue[] = [];
    const ns = options.namespace;
    if (ns !== undefined && (typeof ns !== 'string' || ns === '' || ns === '*'))
      issues.push({ path: 'namespace', message: 'must be a namespace name' });
    const watchTimeoutSeconds = options.watchTimeoutSeconds ?? 25;
    if (!Number.isInteger(watchTimeoutSeconds) || watchTimeoutSeconds < 1 || watchTimeoutSeconds > 29)
      issues.push({ path: 'watchTimeoutSeconds', message: 'must be an integer from 1 to 29' });
    const pageSize = options.pageSize ?? 500;
    if (!Number.isInteger(pageSize) || pageSize < 1)
      issues.push({ path: 'pageSize', message: 'must be an integer >= 1' });
    const compileOptions = options.compile ?? {};
    try {
      compile([], compileOptions);
    } catch (err) {
      issues.push({ path: 'compile', message: describeError(err) });
    }
    if (issues.length > 0) throw new InvalidArgumentError('Kubernetes rules source options', issues);
    this.options = {
      auth: options.auth,
      namespace: ns,
      writeStatus: options.writeStatus ?? true,
      compile: { ...compileOptions },
      watchTimeoutSeconds,
      pageSize,
      backoff: { ...WATCH_BACKOFF, ...options.backoff },
      logger: options.logger ?? processWarningLogger,
      clock: options.clock ?? systemClock,
    };
    this.name = options.name ?? `kubernetes-rules:${ns ?? 'default'}`;
    const auth = options.auth;
    this.api = new LazyClient(() => createRulesApi(auth));
  }

  /** Starts following for `observer`: the current valid rules first, then every change of them. */
  subscribe(observer: KubernetesRulesObserver): Subscription {
    const loop = new RulesWatchLoop(this.api.get(), this.options, this.name, observer);
    this.loops.add(loop);
    const unsubscribe = (): void => {
      loop.stop();
      this.loops.delete(loop);
    };
    return { unsubscribe, [Symbol.dispose]: unsubscribe };
  }

  /**
   * Keeps `target` — a `rulesRouter` of `@weft/proxy`, or anything with `update(ruleSet)` — on
   * the namespace's valid rules, as `WeftRulesSource.follow` does.
   */
  follow(target: RulesTarget, options: RulesFollowOptions = {}): RulesFollow {
    return followInto(this, target, options);
  }

  /** Ends every subscription. */
  async close(): Promise<void> {
    for (const loop of this.loops) loop.stop();
    this.loops.clear();
  }
}

/** The numeric revision of a resourceVersion (etcd's mod revision), if it is one. */
function revisionOf(resourceVersion: string): number | undefined {
  const n = Number(resourceVersion);
  return /^\d+$/.test(resourceVersion) && Number.isSafeInteger(n) ? n : undefined;
}

/** One subscription: a reflector of `Rule` objects, their verdicts and status writes, and the updates. */
class RulesWatchLoop extends WatchLoop<RulesApi, Resolved, KubernetesRulesObserver> {
  private reflector: Reflector | undefined;
  private api: RulesApi | undefined;
  /** Verdicts by object key, for the object (uid) and generation they were made on. */
  private readonly verdicts = new Map<string, { version: string; verdict: RuleVerdict }>();
  /** The last valid version of each object (kept in force while an edit of it is invalid). */
  private readonly lastGood = new Map<string, IdentifiedRule>();
  private fingerprint: string | undefined;
  private statusRefused = false;
  private fallbackRevision = 0;

  protected startReflectors(api: RulesApi): void {
    this.api = api;
    const namespace = this.options.namespace ?? api.contextNamespace ?? 'default';
    this.reflector = new Reflector(
      api,
      { kind: 'rules', namespace, labelSelector: '' },
      this.reflectorOptions(`Rules in ${namespace}`),
      { changed: () => this.scheduleEmit() },
      (o) => o,
      (o) => this.judge(o as RuleObject),
    );
  }

  /** Validates an added or modified object and writes its verdict to its status. */
  private judge(o: RuleObject): void {
    const key = keyOf(o);
    // The spec only changes with the generation (a status write bumps the resourceVersion alone).
    const version = `${o.metadata?.uid ?? ''}/${o.metadata?.generation ?? o.metadata?.resourceVersion ?? ''}`;
    const known = this.verdicts.get(key);
    const verdict = known?.version === version ? known.verdict : ruleOfObject(o);
    this.verdicts.set(key, { version, verdict });
    if (this.options.writeStatus && !this.statusRefused) this.writeStatus(o, verdict);
  }

  private writeStatus(o: RuleObject, verdict: RuleVerdict): void {
    const status = statusFor(o, verdict, new Date(this.options.clock.now()));
    const api = this.api;
    const { namespace, name, resourceVersion } = o.metadata ?? {};
    if (status === undefined || api === undefined || !namespace || !name || !resourceVersion) return;
    api.patchStatus(namespace, name, resourceVersion, status).catch((err: unknown) => {
      const code = httpStatusOf(err);
      // 409: the object changed meanwhile (its new version is judged on its own); 404: deleted.
      if (code === 409 || code === 404 || this.abort.signal.aborted) return;
      if (code === 403 || code === 401) this.statusRefused = true;
      this.options.logger.warn({
        code: 'WEFT_WARN_K8S_RULE_STATUS',
        message: `${this.source}: cannot write the status of Rule ${namespace}/${name}: ${describeError(err)}${
          this.statusRefused
            ? '; not writing statuses any more (grant patch on rules/status, or set writeStatus: false)'
            : ''
        }`,
        source: this.source,
        object: `Rule ${namespace}/${name}`,
        cause: err,
      });
    });
  }

  protected emit(): void {
    const reflector = this.reflector;
    if (reflector === undefined || !reflector.synced) return;
    const objects = [...(reflector.objects.values() as Iterable<RuleObject>)].sort(byCreation);
    const present = new Set<string>();
    const rules: IdentifiedRule[] = [];
    const rejected = new Map<string, readonly string[]>();
    for (const o of objects) {
      const key = keyOf(o);
      present.add(key);
      const verdict = this.verdicts.get(key)?.verdict ?? ruleOfObject(o);
      if (verdict.ok) {
        this.lastGood.set(key, verdict.rule);
        rules.push(verdict.rule);
        continue;
      }
      const name = o.metadata?.name ?? '';
      rejected.set(name, verdict.problems);
      const kept = this.lastGood.get(key);
      if (kept !== undefined) rules.push(kept);
      this.warnings.warn({
        code: 'WEFT_WARN_K8S_INVALID_RULE',
        message: `${this.source}: Rule ${key} is not a valid rule${kept === undefined ? '' : ' (its last valid version stays in force)'}: ${verdict.problems.join('; ')}`,
        source: this.source,
        // Per generation: a status write changes the resourceVersion, not the spec.
        object: `Rule ${key} generation ${o.metadata?.generation ?? '?'}`,
      });
    }
    this.warnings.retain();
    for (const key of [...this.lastGood.keys()]) if (!present.has(key)) this.lastGood.delete(key);
    for (const key of [...this.verdicts.keys()]) if (!present.has(key)) this.verdicts.delete(key);

    const fingerprint = JSON.stringify(rules);
    const forced = reflector.recovering;
    if (!reflector.failing) reflector.recovering = false;
    if (fingerprint === this.fingerprint) {
      if (forced) this.observer.recovered?.();
      return;
    }
    const revision = revisionOf(reflector.version) ?? ++this.fallbackRevision;
    let ruleSet: RuleSet;
    try {
      ruleSet = compile(rules, { ...this.options.compile, revision });
    } catch (err) {
      this.options.logger.warn({
        code: 'WEFT_WARN_WEFT_BAD_RULES',
        message: `${this.source}: the rules at resourceVersion ${reflector.version} do not compile together; the rules in force stay: ${describeError(err)}`,
        source: this.source,
        cause: err,
      });
      this.observer.error(asError(err));
      return;
    }
    this.fingerprint = fingerprint;
    this.observer.next({ ruleSet, revision, rules: Object.freeze(rules), rejected });
  }
}
