import {
  type BackoffOptions,
  type Clock,
  DEFAULT_TRUST_DOMAIN,
  type EndpointType,
  EndpointTypeSchema,
  InvalidArgumentError,
  instanceFingerprint,
  type Source,
  type SourceObserver,
  type Subscription,
  systemClock,
  type ValidationIssue,
  validateTrustDomain,
} from '@weft/core';
import { WATCH_BACKOFF } from '../internal/backoff.js';
import { LazyClient } from '../internal/lazy.js';
import { type AdapterLogger, processWarningLogger } from '../internal/log.js';
import { createKubeApi, type KubeApi, type KubernetesAuth } from './client.js';
import { SERVICE_NAME_LABEL, type SliceLike, slicesToInstances } from './mapping.js';
import { Reflector } from './reflector.js';
import { WatchLoop } from './watch-loop.js';

/** Options of {@link KubernetesSource}. */
export interface KubernetesSourceOptions {
  /** How to reach and authenticate to the API server. Default: kubeconfig, then in-cluster. */
  auth?: KubernetesAuth;
  /**
   * Namespace to watch. Default: the kubeconfig context's namespace, else `default`. `'*'` watches
   * every namespace (the instances keep their namespace).
   */
  namespace?: string;
  /** Only these Services (by name); every Service's EndpointSlices when undefined. */
  services?: readonly string[];
  /** An extra label selector on the EndpointSlices (ANDed with the service selection). */
  labelSelector?: string;
  /**
   * The port of each endpoint: a port name (`http`) or number (`8080`) as the slice lists it.
   * Default: the slice's first port. A slice without that port is skipped with a
   * `WEFT_WARN_K8S_PORT_NOT_FOUND` warning.
   */
  port?: string | number;
  /**
   * Add the labels of each endpoint's pod (its `targetRef`) as `key=value` tags, as Amalgam8 did.
   * The Pods of the namespace are then listed and watched too (only their names and labels are
   * kept), so a label change shows at once. Default false.
   */
  podLabelsAsTags?: boolean;
  /** Endpoint type when the port's protocol does not say. Default `http`. */
  endpointType?: EndpointType;
  /**
   * mTLS between proxies. A Service port with `appProtocol: weft.dev/mtls` (or named `weft-mtls`)
   * is the inbound mTLS port of its pods' `weft sidecar`: its instances are on that port (whatever
   * `port` says) with `weft_mtls: spiffe://<trustDomain>/ns/<namespace>/svc/<service>` metadata,
   * so callers' proxies with credentials reach them over mTLS and check that identity.
   */
  mtls?: {
    /**
     * The mesh's trust domain, as its certificate authority issues it (`identity.trustDomain` of
     * the controller; a sidecar's identity knows it). Default `weft.local`, Weft's default.
     */
    trustDomain?: string;
  };
  /** Name in logs and staleness reports. Default `kubernetes:<namespace>`. */
  name?: string;
  /**
   * Server-side lifetime of one watch request, in seconds. Default 25: a stream ends cleanly that
   * often and is resumed from the last resourceVersion; a silently dead connection is noticed
   * within 30 s by the client's inactivity timeout.
   */
  watchTimeoutSeconds?: number;
  /** Page size of lists. Default 500. */
  pageSize?: number;
  /** With `podLabelsAsTags`: a label selector narrowing the Pods watched for their labels. */
  podLabelSelector?: string;
  /** Backoff between attempts after a failure. Default 100 ms doubling to 5 s, full jitter. */
  backoff?: BackoffOptions;
  /** Where warnings go. Default: Node process warnings. */
  logger?: AdapterLogger;
  /** Clock for timers (backoff, list deadlines) and timestamps; the system clock by default. */
  clock?: Clock;
}

interface Resolved {
  auth: KubernetesAuth | undefined;
  namespace: string | undefined;
  allNamespaces: boolean;
  labelSelector: string;
  port: string | number | undefined;
  podLabelsAsTags: boolean;
  podLabelSelector: string;
  endpointType: EndpointType;
  trustDomain: string;
  watchTimeoutSeconds: number;
  pageSize: number;
  backoff: BackoffOptions;
  logger: AdapterLogger;
  clock: Clock;
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/**
 * Kubernetes EndpointSlices (discovery.k8s.io/v1) as a read-only discovery {@link Source}.
 *
 * List, then watch from the list's resourceVersion with bookmarks; a watch that ends cleanly is
 * resumed from the last resourceVersion seen; one that fails — a dropped connection, an API
 * server restart, any error — is reported to the observer and started again with backoff from
 * a fresh list; `410 Gone` (the server no longer has that resourceVersion) relists at once. The
 * loop never stops on its own and never fails silently: every failure is reported to the observer
 * (Discovery marks the state stale), logged once per failure streak (`WEFT_WARN_WATCH_RESTART`,
 * with the cause; `WEFT_WARN_WATCH_RELIST` for a 410), and the recovery delivers the state again
 * and logs a `watch-recovered` debug event.
 *
 * Conditions map to statuses as documented in the package README: ready → `UP`, not ready →
 * `STARTING`, terminating → `OUT_OF_SERVICE`.
 */
export class KubernetesSource implements Source {
  readonly name: string;
  private readonly options: Resolved;
  private readonly api: LazyClient<KubeApi>;

  constructor(options: KubernetesSourceOptions = {}) {
    const issues: ValidationIssue[] = [];
    const ns = options.namespace;
    if (ns !== undefined && (typeof ns !== 'string' || ns === ''))
      issues.push({ path: 'namespace', message: 'must be a non-empty string (or "*")' });
    const services = options.services;
    if (
      services !== undefined &&
      (!Array.isArray(services) ||
        services.length === 0 ||
        services.some((s) => typeof s !== 'string' || s === '' || !LABEL_VALUE.test(s) || s.length > 63))
    )
      issues.push({ path: 'services', message: 'must be a non-empty list of Service names' });
    const port = options.port;
    if (
      port !== undefined &&
      !(typeof port === 'string' && port !== '') &&
      !(typeof port === 'number' && Number.isInteger(port) && port > 0 && port <= 65535)
    )
      issues.push({ path: 'port', message: 'must be a port name or a number in 1..65535' });
    const endpointType = options.endpointType ?? 'http';
    if (!EndpointTypeSchema.safeParse(endpointType).success)
      issues.push({ path: 'endpointType', message: `must be one of ${EndpointTypeSchema.options.join(', ')}` });
    const mtls = options.mtls;
    let trustDomain = DEFAULT_TRUST_DOMAIN;
    if (mtls !== undefined && (typeof mtls !== 'object' || mtls === null || Array.isArray(mtls)))
      issues.push({ path: 'mtls', message: 'must be an object ({trustDomain})' });
    else if (mtls?.trustDomain !== undefined)
      try {
        trustDomain = validateTrustDomain(mtls.trustDomain, 'mtls.trustDomain');
      } catch (err) {
        if (!(err instanceof InvalidArgumentError)) throw err;
        issues.push(...err.issues);
      }
    const watchTimeoutSeconds = options.watchTimeoutSeconds ?? 25;
    if (!Number.isInteger(watchTimeoutSeconds) || watchTimeoutSeconds < 1 || watchTimeoutSeconds > 29)
      issues.push({
        path: 'watchTimeoutSeconds',
        // The client aborts a stream after 30 s without data; a longer server timeout would look like a failure.
        message: 'must be an integer from 1 to 29 (the client drops a stream after 30 s without data)',
      });
    const pageSize = options.pageSize ?? 500;
    if (!Number.isInteger(pageSize) || pageSize < 1)
      issues.push({ path: 'pageSize', message: 'must be an integer >= 1' });
    const auth = options.auth;
    if (
      auth !== undefined &&
      (typeof auth !== 'object' ||
        auth === null ||
        !('kubeconfigPath' in auth || 'kubeconfig' in auth || 'inCluster' in auth || 'kubeConfig' in auth))
    )
      issues.push({ path: 'auth', message: 'must give kubeconfigPath, kubeconfig, inCluster or kubeConfig' });
    if (issues.length > 0) throw new InvalidArgumentError('Kubernetes source options', issues);

    const selectors = [
      services === undefined
        ? SERVICE_NAME_LABEL
        : services.length === 1
          ? `${SERVICE_NAME_LABEL}=${services[0]}`
          : `${SERVICE_NAME_LABEL} in (${[...services].join(',')})`,
    ];
    if (options.labelSelector !== undefined && options.labelSelector !== '') selectors.push(options.labelSelector);
    this.options = {
      auth,
      namespace: ns === '*' ? undefined : ns,
      allNamespaces: ns === '*',
      labelSelector: selectors.join(','),
      port,
      podLabelsAsTags: options.podLabelsAsTags ?? false,
      podLabelSelector: options.podLabelSelector ?? '',
      endpointType,
      trustDomain,
      watchTimeoutSeconds,
      pageSize,
      backoff: { ...WATCH_BACKOFF, ...options.backoff },
      logger: options.logger ?? processWarningLogger,
      clock: options.clock ?? systemClock,
    };
    this.name = options.name ?? `kubernetes:${ns ?? 'default'}`;
    this.api = new LazyClient(() => createKubeApi(auth));
  }

  subscribe(observer: SourceObserver): Subscription {
    const loop = new SliceWatchLoop(this.api.get(), this.options, this.name, observer);
    const unsubscribe = (): void => loop.stop();
    return { unsubscribe, [Symbol.dispose]: unsubscribe };
  }
}

/** One subscription: a reflector of EndpointSlices (and one of Pods for their labels), and the snapshots. */
class SliceWatchLoop extends WatchLoop<KubeApi, Resolved, SourceObserver> {
  private slices: Reflector | undefined;
  private pods: Reflector | undefined;
  private fingerprint: string | undefined;

  protected startReflectors(api: KubeApi): void {
    const namespace = this.options.allNamespaces
      ? undefined
      : (this.options.namespace ?? api.contextNamespace ?? 'default');
    // One failure streak for the slices and pods of this subscription: one warning per outage.
    const reflectorOptions = this.reflectorOptions(`EndpointSlices in ${namespace ?? 'every namespace'}`);
    const handlers = { changed: () => this.scheduleEmit() };
    if (this.options.podLabelsAsTags)
      this.pods = new Reflector(
        api,
        { kind: 'pods', namespace, labelSelector: this.options.podLabelSelector },
        reflectorOptions,
        handlers,
        // Pods are large; their names and labels are all the tags need.
        (pod) => ({
          metadata: {
            name: pod.metadata?.name ?? '',
            namespace: pod.metadata?.namespace ?? '',
            resourceVersion: pod.metadata?.resourceVersion ?? '',
            labels: pod.metadata?.labels ?? {},
          },
        }),
      );
    this.slices = new Reflector(
      api,
      { kind: 'endpointslices', namespace, labelSelector: this.options.labelSelector },
      reflectorOptions,
      handlers,
    );
  }

  protected emit(): void {
    const slices = this.slices;
    const pods = this.pods;
    // The first snapshot waits for every list, so it is complete.
    if (slices === undefined || !slices.synced || (pods !== undefined && !pods.synced)) return;
    const reflectors = pods === undefined ? [slices] : [slices, pods];
    const podLabels =
      pods === undefined
        ? undefined
        : (namespace: string, name: string) =>
            (pods.objects.get(`${namespace}/${name}`)?.metadata?.labels ?? undefined) as
              | Record<string, string>
              | undefined;
    const { instances, warnings } = slicesToInstances(slices.objects.values() as Iterable<SliceLike>, {
      port: this.options.port,
      endpointType: this.options.endpointType,
      trustDomain: this.options.trustDomain,
      source: this.source,
      podLabels,
    });
    for (const w of warnings) this.warnings.warn(w);
    this.warnings.retain();
    const fingerprint = instances.map(instanceFingerprint).join('\n');
    const forced = reflectors.some((r) => r.recovering);
    if (!forced && fingerprint === this.fingerprint) return;
    for (const r of reflectors) if (!r.failing) r.recovering = false;
    this.fingerprint = fingerprint;
    this.observer.next({ instances: Object.freeze(instances), revision: slices.version });
  }
}
