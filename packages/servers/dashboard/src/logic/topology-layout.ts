import type { TopologyAnswer, TopologyEdge } from '../api/types.js';

/** Sizes of the drawing, in SVG user units (px at 100 %). */
export const GEOMETRY = {
  nodeWidth: 190,
  headerHeight: 30,
  versionHeight: 26,
  padding: 8,
  columnGap: 150,
  rowGap: 36,
  margin: 24,
} as const;

export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface LaidVersion extends Box {
  readonly version: string;
}

export interface LaidNode extends Box {
  readonly service: string;
  readonly instances: number;
  /** Column: the longest chain of callers before it. */
  readonly rank: number;
  readonly versions: readonly LaidVersion[];
}

export interface LaidEdge {
  /** Stable across updates, for keys and tests: `src[@v]->dst[@v]`. */
  readonly key: string;
  readonly edge: TopologyEdge;
  /** SVG path data: a cubic curve from the caller's right side to the callee's left. */
  readonly path: string;
  /** The curve's midpoint, where its label goes. */
  readonly labelX: number;
  readonly labelY: number;
  /** Drawn against the flow (a call back to an earlier column: a cycle). */
  readonly backwards: boolean;
}

export interface TopologyLayout {
  readonly width: number;
  readonly height: number;
  readonly nodes: readonly LaidNode[];
  readonly edges: readonly LaidEdge[];
}

/** Least vertical distance between two edge labels in the same gap between columns. */
export const LABEL_SPACING = 14;

/**
 * Moves labels down where two in the same gap between columns would overlap (edges leaving one
 * service for several versions of another start a few pixels apart), keeping their order.
 */
function spreadLabels(edges: readonly LaidEdge[]): LaidEdge[] {
  const gapOf = (e: LaidEdge): number => Math.round(e.labelX / (GEOMETRY.nodeWidth + GEOMETRY.columnGap));
  const order = [...edges].sort((a, b) => gapOf(a) - gapOf(b) || a.labelY - b.labelY || a.key.localeCompare(b.key));
  const moved = new Map<string, number>();
  let previous: { gap: number; y: number } | undefined;
  for (const e of order) {
    const gap = gapOf(e);
    const y =
      previous !== undefined && previous.gap === gap ? Math.max(e.labelY, previous.y + LABEL_SPACING) : e.labelY;
    moved.set(e.key, y);
    previous = { gap, y };
  }
  return edges.map((e) => ({ ...e, labelY: moved.get(e.key) ?? e.labelY }));
}

/** How an edge is coloured: by its error rate. */
export type EdgeTone = 'ok' | 'warn' | 'bad';

export function edgeTone(errorRate: number): EdgeTone {
  return errorRate >= 0.05 ? 'bad' : errorRate >= 0.01 ? 'warn' : 'ok';
}

/** Stroke width by request rate: a log scale, so a 1000/s edge is not a wall. */
export function edgeWidth(requestsPerSecond: number): number {
  return 1.5 + Math.min(6, Math.log10(1 + Math.max(0, requestsPerSecond)) * 2);
}

export const edgeKey = (e: TopologyEdge): string =>
  `${e.source.service}${e.source.version === undefined ? '' : `@${e.source.version}`}->${e.destination.service}${e.destination.version === undefined ? '' : `@${e.destination.version}`}`;

/**
 * Lays the call graph out left to right in columns: callers before callees (the longest chain of
 * callers decides a service's column; calls that close a cycle are drawn backwards), each column
 * ordered by where its callers are, each service a box with one row per version. Edges join the
 * caller's version row (or its header when the version is unknown) to the callee's.
 */
export function layoutTopology(topology: Pick<TopologyAnswer, 'nodes' | 'edges'>): TopologyLayout {
  const G = GEOMETRY;
  const services = new Map<string, { versions: Set<string>; instances: number }>();
  const add = (service: string, version?: string): void => {
    let entry = services.get(service);
    if (entry === undefined) {
      entry = { versions: new Set(), instances: 0 };
      services.set(service, entry);
    }
    if (version !== undefined && version !== '') entry.versions.add(version);
  };
  for (const node of topology.nodes) {
    add(node.service);
    const entry = services.get(node.service);
    if (entry !== undefined) entry.instances = node.instances;
    for (const v of node.versions) add(node.service, v);
  }
  for (const e of topology.edges) {
    add(e.source.service, e.source.version);
    add(e.destination.service, e.destination.version);
  }
  const names = [...services.keys()].sort();

  // Callees per service, without self-calls; then the calls that close a cycle, found by a DFS
  // from the services nobody calls (then from any left), are set aside so ranks are well defined.
  const callees = new Map<string, Set<string>>(names.map((n) => [n, new Set<string>()]));
  for (const e of topology.edges)
    if (e.source.service !== e.destination.service) callees.get(e.source.service)?.add(e.destination.service);
  const called = new Set([...callees.values()].flatMap((s) => [...s]));
  const back = new Set<string>();
  const state = new Map<string, 'open' | 'done'>();
  const visit = (n: string): void => {
    state.set(n, 'open');
    for (const m of [...(callees.get(n) ?? [])].sort()) {
      const s = state.get(m);
      if (s === 'open') back.add(`${n}->${m}`);
      else if (s === undefined) visit(m);
    }
    state.set(n, 'done');
  };
  for (const n of [...names.filter((n) => !called.has(n)), ...names]) if (!state.has(n)) visit(n);

  // Longest path from the roots over the remaining (acyclic) calls, in topological order.
  const rank = new Map<string, number>(names.map((n) => [n, 0]));
  const forward = (n: string): string[] => [...(callees.get(n) ?? [])].filter((m) => !back.has(`${n}->${m}`));
  const indegree = new Map<string, number>(names.map((n) => [n, 0]));
  for (const n of names) for (const m of forward(n)) indegree.set(m, (indegree.get(m) ?? 0) + 1);
  const queue = names.filter((n) => indegree.get(n) === 0);
  while (queue.length > 0) {
    const n = queue.shift() as string;
    for (const m of forward(n)) {
      rank.set(m, Math.max(rank.get(m) ?? 0, (rank.get(n) ?? 0) + 1));
      const left = (indegree.get(m) ?? 0) - 1;
      indegree.set(m, left);
      if (left === 0) queue.push(m);
    }
  }

  // Columns, each ordered by the mean row of its callers in earlier columns (then by name).
  const columns: string[][] = [];
  for (const n of names) {
    const c = rank.get(n) ?? 0;
    columns[c] = [...(columns[c] ?? []), n];
  }
  const row = new Map<string, number>();
  columns.forEach((column, c) => {
    const weight = (n: string): number => {
      const rows = names
        .filter((m) => (rank.get(m) ?? 0) < c && callees.get(m)?.has(n) === true)
        .map((m) => row.get(m) ?? 0);
      return rows.length === 0 ? Number.POSITIVE_INFINITY : rows.reduce((a, b) => a + b, 0) / rows.length;
    };
    const weights = new Map(column.map((n) => [n, weight(n)]));
    column.sort((a, b) => (weights.get(a) ?? 0) - (weights.get(b) ?? 0) || a.localeCompare(b));
    column.forEach((n, i) => {
      row.set(n, i);
    });
  });

  const nodes: LaidNode[] = [];
  const byService = new Map<string, LaidNode>();
  let height = 0;
  columns.forEach((column, c) => {
    let y = G.margin;
    const x = G.margin + c * (G.nodeWidth + G.columnGap);
    for (const service of column ?? []) {
      const entry = services.get(service);
      const versions = [...(entry?.versions ?? [])].sort();
      const boxHeight = G.headerHeight + versions.length * G.versionHeight + (versions.length > 0 ? G.padding : 0);
      const laid: LaidNode = {
        service,
        instances: entry?.instances ?? 0,
        rank: c,
        x,
        y,
        width: G.nodeWidth,
        height: boxHeight,
        versions: versions.map((version, i) => ({
          version,
          x: x + G.padding,
          y: y + G.headerHeight + i * G.versionHeight,
          width: G.nodeWidth - 2 * G.padding,
          height: G.versionHeight - 4,
        })),
      };
      nodes.push(laid);
      byService.set(service, laid);
      y += boxHeight + G.rowGap;
    }
    height = Math.max(height, y - G.rowGap + G.margin);
  });
  const width =
    G.margin * 2 + Math.max(1, columns.length) * G.nodeWidth + Math.max(0, columns.length - 1) * G.columnGap;

  const anchor = (service: string, version: string | undefined, side: 'out' | 'in'): [number, number] => {
    const node = byService.get(service) as LaidNode;
    const box = node.versions.find((v) => v.version === version) ?? {
      x: node.x,
      y: node.y,
      width: node.width,
      height: G.headerHeight,
    };
    const edgeX = side === 'out' ? node.x + node.width : node.x;
    return [edgeX, box.y + box.height / 2];
  };
  const curves = [...topology.edges]
    .sort((a, b) => edgeKey(a).localeCompare(edgeKey(b)))
    .map((edge) => {
      const [x1, y1] = anchor(edge.source.service, edge.source.version, 'out');
      const [x2, y2] = anchor(edge.destination.service, edge.destination.version, 'in');
      const backwards = x2 <= x1;
      const dx = backwards ? 90 : Math.max(40, (x2 - x1) / 2);
      const c1: [number, number] = [x1 + dx, y1];
      const c2: [number, number] = [x2 - dx, y2];
      // A cubic Bézier's point at t = ½: (P0 + 3·P1 + 3·P2 + P3) / 8.
      const labelX = (x1 + 3 * c1[0] + 3 * c2[0] + x2) / 8;
      const labelY = (y1 + 3 * c1[1] + 3 * c2[1] + y2) / 8;
      return {
        key: edgeKey(edge),
        edge,
        path: `M${x1} ${y1} C${c1[0]} ${c1[1]} ${c2[0]} ${c2[1]} ${x2} ${y2}`,
        labelX,
        labelY,
        backwards,
      };
    });
  const edges = spreadLabels(curves);
  return { width, height: Math.max(height, 2 * G.margin + G.headerHeight), nodes, edges };
}
