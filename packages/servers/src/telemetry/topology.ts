import { InvalidArgumentError } from '@weft/core';
import { queryValue } from '../controller/query.js';
import type { HeldRecord, RingView } from './access-log-ring.js';
import type { RegisteredCatalogue } from './registered-versions.js';

/** Default and longest window of `GET /v1/topology`, seconds (`telemetry.topologyWindow`, `telemetry.topologyMaxWindow`). */
export const DEFAULT_WINDOW_S = 60;
export const MAX_WINDOW_S = 3600;

/** The windows a server allows: the one without `?window=`, and the longest. */
export interface TopologyWindows {
  /** Seconds, when the request gives no `?window=`. */
  readonly defaultS: number;
  /** The longest `?window=` accepted, seconds. */
  readonly maxS: number;
}

/** A service version as the topology names it: its tags joined by commas (`version=v2`); absent for "any". */
export interface TopologyEndpoint {
  readonly service: string;
  readonly version?: string;
}

/** A service seen in the window (or, in the control plane, registered). */
export interface TopologyNode {
  readonly service: string;
  /**
   * The versions (tag sets) seen: of its proxy as a caller, and of the backends chosen for calls
   * to it; in the control plane also its registered instances' `version=` tags, idle or not.
   */
  readonly versions: readonly string[];
  /** Distinct instances (`upstream_host`) that answered calls to it. */
  readonly instances: number;
  /**
   * Instances registered now (any status): present where the topology is drawn next to the
   * registry (the control plane), 0 for a service that only shows in the records.
   */
  readonly registered?: number;
}

/** Calls from one service version to one backend version of another, over the window. */
export interface TopologyEdge {
  readonly source: TopologyEndpoint;
  readonly destination: TopologyEndpoint;
  readonly requestsPerSecond: number;
  /** Fraction of calls that failed: status 5xx, no response, or an error code. */
  readonly errorRate: number;
  /** 99th percentile of the calls' durations as the caller's proxy saw them, ms. */
  readonly p99Ms: number;
  /**
   * This version's fraction of the calls from `source` to `destination.service`: a 90/10 split
   * shows as 0.9 and 0.1 on the two edges.
   */
  readonly share: number;
  /** Calls in the window. */
  readonly requests: number;
}

/** `GET /v1/topology`'s answer. */
export interface TopologyView {
  readonly nodes: readonly TopologyNode[];
  readonly edges: readonly TopologyEdge[];
  /** The window, seconds. */
  readonly window: number;
  /** The namespace's newest access-log seq the picture includes (also `x-weft-index`). */
  readonly index: number;
}

/** `?window=60` (seconds), within `windows`. @throws InvalidArgumentError naming `window`. */
export function windowOf(
  query: unknown,
  windows: TopologyWindows = { defaultS: DEFAULT_WINDOW_S, maxS: MAX_WINDOW_S },
): number {
  const text = queryValue(query, 'window');
  if (text === undefined) return windows.defaultS;
  const n = Number(text);
  if (text.trim() === '' || !Number.isSafeInteger(n) || n < 1 || n > windows.maxS)
    throw new InvalidArgumentError('topology query', [
      {
        path: 'window',
        message: `must be a whole number of seconds from 1 to ${windows.maxS} (got ${JSON.stringify(text)})`,
      },
    ]);
  return n;
}

const versionOf = (tags: readonly string[]): string | undefined => (tags.length === 0 ? undefined : tags.join(','));

const endpoint = (service: string, version: string | undefined): TopologyEndpoint =>
  version === undefined ? { service } : { service, version };

const percentile99 = (sorted: readonly number[]): number =>
  sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)] as number);

const failed = (h: HeldRecord): boolean =>
  h.record.status >= 500 || h.record.status === 0 || h.record.error_code !== undefined;

interface EdgeAcc {
  readonly source: TopologyEndpoint;
  readonly destination: TopologyEndpoint;
  /** source → destination service, for the share. */
  readonly group: string;
  requests: number;
  errors: number;
  readonly durationsMs: number[];
}

/**
 * The call graph of the calls that ended in the last `windowS` seconds (by `timestamp_in_ms`,
 * against `now`): one node per service, one edge per caller version and backend version. Rates
 * are per second of the window; when the ring holds less than the window (a busy mesh), they
 * count what it holds. With `registered` (the registry's catalogue of the same namespace), every
 * registered service and version is a node too, idle ones with no edge, and each node says how
 * many instances are `registered`.
 */
export function buildTopology(
  view: RingView,
  windowS: number,
  now = Date.now(),
  registered?: RegisteredCatalogue,
): TopologyView {
  const from = now - windowS * 1000;
  const nodes = new Map<string, { versions: Set<string>; instances: Set<string> }>();
  const node = (service: string) => {
    let n = nodes.get(service);
    if (n === undefined) {
      n = { versions: new Set(), instances: new Set() };
      nodes.set(service, n);
    }
    return n;
  };
  const edges = new Map<string, EdgeAcc>();
  const groups = new Map<string, number>();
  for (const h of view.ring.records(view.upTo)) {
    if (h.record.timestamp_in_ms < from) continue;
    const srcVersion = versionOf(h.src.tags);
    const dstVersion = versionOf(h.dst.tags);
    const caller = node(h.src.service);
    if (srcVersion !== undefined) caller.versions.add(srcVersion);
    const callee = node(h.dst.service);
    if (dstVersion !== undefined) callee.versions.add(dstVersion);
    const host = h.record.upstream_host;
    if (host !== undefined && host !== '-') callee.instances.add(host);
    const group = JSON.stringify([h.src.service, srcVersion ?? null, h.dst.service]);
    const key = JSON.stringify([group, dstVersion ?? null]);
    let e = edges.get(key);
    if (e === undefined) {
      e = {
        source: endpoint(h.src.service, srcVersion),
        destination: endpoint(h.dst.service, dstVersion),
        group,
        requests: 0,
        errors: 0,
        durationsMs: [],
      };
      edges.set(key, e);
    }
    e.requests++;
    if (failed(h)) e.errors++;
    e.durationsMs.push(h.record.request_time * 1000);
    groups.set(group, (groups.get(group) ?? 0) + 1);
  }
  if (registered !== undefined)
    for (const [service, r] of registered) {
      const n = node(service);
      for (const version of r.versions) n.versions.add(version);
    }
  const round = (n: number, digits: number): number => Number(n.toFixed(digits));
  return {
    nodes: [...nodes]
      .map(([service, n]): TopologyNode => {
        const drawn = { service, versions: [...n.versions].sort(), instances: n.instances.size };
        return registered === undefined ? drawn : { ...drawn, registered: registered.get(service)?.instances ?? 0 };
      })
      .sort((a, b) => a.service.localeCompare(b.service)),
    edges: [...edges.values()]
      .map((e) => ({
        source: e.source,
        destination: e.destination,
        requestsPerSecond: round(e.requests / windowS, 3),
        errorRate: round(e.errors / e.requests, 4),
        p99Ms: round(percentile99(e.durationsMs.sort((a, b) => a - b)), 1),
        share: round(e.requests / (groups.get(e.group) as number), 4),
        requests: e.requests,
      }))
      .sort(
        (a, b) =>
          a.source.service.localeCompare(b.source.service) ||
          a.destination.service.localeCompare(b.destination.service) ||
          (a.destination.version ?? '').localeCompare(b.destination.version ?? ''),
      ),
    window: windowS,
    index: view.upTo,
  };
}
