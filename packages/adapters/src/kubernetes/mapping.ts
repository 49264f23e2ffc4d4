/**
 * EndpointSlices (discovery.k8s.io/v1) → Weft instances.
 *
 * One instance per endpoint address, on the slice port chosen by the `port` option. Its service
 * is the slice's `kubernetes.io/service-name` label; several slices of one service are merged
 * (an address listed twice keeps its best status). Status from the endpoint conditions:
 *
 * | conditions                                   | status           | why                                             |
 * | -------------------------------------------- | ---------------- | ----------------------------------------------- |
 * | `terminating: true` (whatever `serving` says) | `OUT_OF_SERVICE` | draining: finish what it has, send it nothing new |
 * | `ready: true` or unset (the API's default)   | `UP`             | receives traffic                                |
 * | `ready: false`, not terminating              | `STARTING`       | not ready yet (readiness probe failing)         |
 *
 * `serving` and `terminating` are also kept in the instance metadata, with the slice, node,
 * zone and pod names.
 *
 * **mTLS.** A slice port whose `appProtocol` is `weft.dev/mtls` (or, for charts that cannot set
 * `appProtocol`, whose name is `weft-mtls`) is the inbound mTLS port of the pods' `weft sidecar`.
 * The EndpointSlice controller copies both from the Service port, so the Service declares it. Its
 * instances are then on that port — whatever the `port` option says, as `weft sidecar` registers
 * its inbound port and never the app's — and announce
 * `weft_mtls: spiffe://<trust domain>/ns/<namespace>/svc/<service>`.
 */
import {
  type EndpointType,
  formatSpiffeId,
  type InstanceStatus,
  instanceId,
  joinHostPort,
  labelsToTags,
  type ServiceInstance,
} from '@weft/core';
import type { AdapterWarning } from '../internal/log.js';

/** The label that ties an EndpointSlice to its Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** The `appProtocol` of a Service port that is the sidecar's inbound mTLS port (a domain-prefixed name, as Kubernetes asks of non-IANA protocols). */
export const MTLS_APP_PROTOCOL = 'weft.dev/mtls';

/** The Service port name that marks the inbound mTLS port too, where `appProtocol` cannot be set. */
export const MTLS_PORT_NAME = 'weft-mtls';

/**
 * The instance metadata key of the SPIFFE ID an endpoint presents over mTLS: @weft/proxy's
 * `MTLS_METADATA_KEY` (the adapters do not depend on the proxy; the integration test checks both agree).
 */
export const MTLS_METADATA_KEY = 'weft_mtls';

/** The parts of an EndpointSlice the adapter reads (list results and raw watch objects alike). */
export interface SliceLike {
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string> | null;
    creationTimestamp?: string | Date;
  };
  addressType?: string;
  endpoints?: Array<{
    addresses?: string[] | null;
    conditions?: { ready?: boolean | null; serving?: boolean | null; terminating?: boolean | null } | null;
    hostname?: string | null;
    nodeName?: string | null;
    zone?: string | null;
    targetRef?: { kind?: string; name?: string; namespace?: string } | null;
  }> | null;
  ports?: Array<{
    name?: string | null;
    port?: number | null;
    protocol?: string | null;
    appProtocol?: string | null;
  }> | null;
}

/** How slices are read. */
export interface SliceMapping {
  /** Port to use: a port name or number; the slice's first port when undefined. */
  port: string | number | undefined;
  /** Endpoint type when the port does not say (`appProtocol: https` → https, UDP → udp). */
  endpointType: EndpointType;
  /** Source name, for warnings. */
  source: string;
  /** Trust domain of the SPIFFE IDs announced for mTLS ports (already validated). */
  trustDomain: string;
  /** Pod labels by namespace and name, when pod labels become tags; undefined when the pod is unknown. */
  podLabels: ((namespace: string, name: string) => Record<string, string> | undefined) | undefined;
}

/** `namespace/name` of a slice. */
export function sliceKey(slice: SliceLike): string {
  return `${slice.metadata?.namespace ?? ''}/${slice.metadata?.name ?? ''}`;
}

/** The status of an endpoint (see the module comment). */
export function statusOf(
  conditions: { ready?: boolean | null; terminating?: boolean | null } | null | undefined,
): InstanceStatus {
  if (conditions?.terminating === true) return 'OUT_OF_SERVICE';
  return conditions?.ready === false ? 'STARTING' : 'UP';
}

type SlicePort = NonNullable<SliceLike['ports']>[number];

/** True for a TCP port marked as the inbound mTLS port (`appProtocol: weft.dev/mtls`, or named `weft-mtls`). */
export function isMtlsPort(port: SlicePort): boolean {
  // TLS runs over TCP only: a UDP or SCTP port so marked is a mistake, read as unmarked.
  if ((port.protocol ?? 'TCP') !== 'TCP') return false;
  return port.appProtocol === MTLS_APP_PROTOCOL || port.name === MTLS_PORT_NAME;
}

const RANK: Record<InstanceStatus, number> = { UP: 0, STARTING: 1, OUT_OF_SERVICE: 2 };

function timestamp(t: string | Date | undefined): number {
  if (t === undefined) return 0;
  const ms = t instanceof Date ? t.getTime() : Date.parse(t);
  return Number.isFinite(ms) ? ms : 0;
}

/**
 * The instances of a set of slices, merged per service, in a stable order (service, then id),
 * and the warnings for the slices that had to be skipped.
 */
export function slicesToInstances(
  slices: Iterable<SliceLike>,
  mapping: SliceMapping,
): { instances: ServiceInstance[]; warnings: AdapterWarning[] } {
  const byId = new Map<string, ServiceInstance>();
  const warnings: AdapterWarning[] = [];
  const warn = (code: AdapterWarning['code'], slice: SliceLike, message: string): void => {
    const object = `EndpointSlice ${sliceKey(slice)}`;
    warnings.push({
      code,
      message: `${mapping.source}: skipped ${object}: ${message}`,
      source: mapping.source,
      object,
    });
  };
  for (const slice of slices) {
    const service = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (service === undefined || service === '') continue; // not a Service's slice (the selector asks for the label)
    const ports = slice.ports ?? [];
    if (ports.length === 0) {
      warn('WEFT_WARN_K8S_SLICE_WITHOUT_PORTS', slice, 'it lists no ports');
      continue;
    }
    // The mTLS port wins over the `port` option: callers must come through the pods' sidecars.
    const mtlsPort = ports.find(isMtlsPort);
    const port =
      mtlsPort ??
      (mapping.port === undefined
        ? ports[0]
        : ports.find((p) => (typeof mapping.port === 'string' ? p.name === mapping.port : p.port === mapping.port)));
    if (port === undefined) {
      const have = ports.map((p) => (p.name ? `${p.name}=${p.port}` : String(p.port))).join(', ');
      warn('WEFT_WARN_K8S_PORT_NOT_FOUND', slice, `it has no port ${JSON.stringify(mapping.port)} (ports: ${have})`);
      continue;
    }
    const portNumber = port.port ?? 0;
    if (!Number.isInteger(portNumber) || portNumber < 1 || portNumber > 65535) {
      warn('WEFT_WARN_K8S_SLICE_WITHOUT_PORTS', slice, `port ${JSON.stringify(port.name ?? '')} has no usable number`);
      continue;
    }
    // Behind the mTLS port is the app's own protocol (the TLS is the mesh's): the configured type.
    const type: EndpointType =
      mtlsPort !== undefined
        ? mapping.endpointType
        : port.protocol === 'UDP'
          ? 'udp'
          : port.appProtocol === 'https'
            ? 'https'
            : mapping.endpointType;
    const namespace = slice.metadata?.namespace ?? '';
    let spiffeId: string | undefined;
    if (mtlsPort !== undefined) {
      try {
        spiffeId = formatSpiffeId({ trustDomain: mapping.trustDomain, namespace, service });
      } catch {
        // The API server only admits DNS-label namespaces and label-value service names, which are
        // valid SPIFFE segments: only a hand-made object gets here.
        warn(
          'WEFT_WARN_K8S_SLICE_WITHOUT_PORTS',
          slice,
          `its namespace or service name cannot form a SPIFFE ID for port ${JSON.stringify(port.name ?? '')}`,
        );
        continue;
      }
    }
    const created = timestamp(slice.metadata?.creationTimestamp);
    for (const e of slice.endpoints ?? []) {
      const status = statusOf(e.conditions);
      const ref = e.targetRef?.kind === 'Pod' && typeof e.targetRef.name === 'string' ? e.targetRef : undefined;
      let tags: readonly string[] = [];
      if (mapping.podLabels !== undefined && ref !== undefined) {
        const labels = mapping.podLabels(ref.namespace ?? namespace, ref.name as string);
        if (labels !== undefined) tags = labelsToTags(labels);
      }
      const metadata: ServiceInstance['metadata'] = {
        slice: slice.metadata?.name ?? '',
        serving: e.conditions?.serving ?? status === 'UP',
        terminating: e.conditions?.terminating ?? false,
      };
      if (e.nodeName) metadata.nodeName = e.nodeName;
      if (e.zone) metadata.zone = e.zone;
      if (ref !== undefined) metadata.pod = ref.name as string;
      if (spiffeId !== undefined) metadata[MTLS_METADATA_KEY] = spiffeId;
      for (const host of e.addresses ?? []) {
        if (typeof host !== 'string' || host === '') continue;
        const value = joinHostPort(host, portNumber);
        const id = instanceId(service, type, value);
        const previous = byId.get(id);
        // The same address in two slices (an endpoint moving between them): keep the better status.
        if (previous !== undefined && RANK[previous.status] <= RANK[status]) continue;
        byId.set(id, {
          id,
          namespace,
          service,
          endpoint: { type, value, host, port: portNumber },
          tags: Object.freeze(tags),
          metadata,
          status,
          ttl: 0,
          registeredAt: created,
          lastHeartbeat: created,
        });
      }
    }
  }
  const instances = [...byId.values()].sort((a, b) =>
    a.service !== b.service ? (a.service < b.service ? -1 : 1) : a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
  );
  return { instances, warnings };
}
