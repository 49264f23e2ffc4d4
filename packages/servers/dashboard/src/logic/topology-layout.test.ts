import { describe, expect, it } from 'vitest';
import type { TopologyEdge } from '../api/types.js';
import { edgeTone, edgeWidth, GEOMETRY, LABEL_SPACING, type LaidNode, layoutTopology } from './topology-layout.js';

const edge = (from: string, to: string, share = 1, fromVersion?: string, toVersion?: string): TopologyEdge => ({
  source: { service: from, ...(fromVersion === undefined ? {} : { version: fromVersion }) },
  destination: { service: to, ...(toVersion === undefined ? {} : { version: toVersion }) },
  requestsPerSecond: 2,
  errorRate: 0,
  p99Ms: 10,
  share,
});

const overlaps = (a: LaidNode, b: LaidNode): boolean =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

describe('layoutTopology', () => {
  const bookinfo = layoutTopology({
    nodes: [
      { service: 'productpage', versions: ['v1'], instances: 1 },
      { service: 'reviews', versions: ['v1', 'v2', 'v3'], instances: 3 },
      { service: 'ratings', versions: ['v1'], instances: 1 },
      { service: 'details', versions: ['v1'], instances: 1 },
    ],
    edges: [
      edge('gateway', 'productpage', 1, undefined, 'v1'),
      edge('productpage', 'reviews', 0.75, 'v1', 'v1'),
      edge('productpage', 'reviews', 0.25, 'v1', 'v2'),
      edge('productpage', 'details', 1, 'v1', 'v1'),
      edge('reviews', 'ratings', 1, 'v2', 'v1'),
    ],
  });
  const node = (name: string): LaidNode => bookinfo.nodes.find((n) => n.service === name) as LaidNode;

  it('puts callers in columns before their callees, by the longest chain of callers', () => {
    expect(['gateway', 'productpage', 'reviews', 'details', 'ratings'].map((s) => node(s).rank)).toEqual([
      0, 1, 2, 2, 3,
    ]);
    expect(node('productpage').x).toBeLessThan(node('reviews').x);
  });

  it('draws one row per version inside its service, and no two services overlap', () => {
    const reviews = node('reviews');
    expect(reviews.versions.map((v) => v.version)).toEqual(['v1', 'v2', 'v3']);
    for (const v of reviews.versions) {
      expect(v.y).toBeGreaterThanOrEqual(reviews.y);
      expect(v.y + v.height).toBeLessThanOrEqual(reviews.y + reviews.height);
    }
    for (const a of bookinfo.nodes) for (const b of bookinfo.nodes) if (a !== b) expect(overlaps(a, b)).toBe(false);
    for (const n of bookinfo.nodes) {
      expect(n.x + n.width).toBeLessThanOrEqual(bookinfo.width);
      expect(n.y + n.height).toBeLessThanOrEqual(bookinfo.height);
    }
  });

  it('joins the version rows an edge names, and the header when it names none', () => {
    const v2 = bookinfo.edges.find((e) => e.key === 'productpage@v1->reviews@v2');
    const reviewsV2 = node('reviews').versions[1];
    expect(v2?.path).toMatch(new RegExp(`^M${node('productpage').x + GEOMETRY.nodeWidth} `));
    expect(v2?.path.endsWith(` ${node('reviews').x} ${(reviewsV2?.y ?? 0) + (reviewsV2?.height ?? 0) / 2}`)).toBe(true);
    const fromGateway = bookinfo.edges.find((e) => e.key === 'gateway->productpage@v1');
    expect(fromGateway?.path.startsWith(`M${node('gateway').x + GEOMETRY.nodeWidth} ${node('gateway').y + 15} `)).toBe(
      true,
    );
    expect(bookinfo.edges.every((e) => !e.backwards)).toBe(true);
  });

  it('keeps the labels of edges that start close together apart', () => {
    const layout = layoutTopology({
      nodes: [{ service: 'reviews', versions: ['v1', 'v2'], instances: 2 }],
      edges: [
        edge('productpage', 'reviews'),
        edge('productpage', 'reviews', 0.5, undefined, 'v1'),
        edge('productpage', 'reviews', 0.5, undefined, 'v2'),
      ],
    });
    const ys = layout.edges.map((e) => e.labelY).sort((a, b) => a - b);
    for (let i = 1; i < ys.length; i++) expect((ys[i] ?? 0) - (ys[i - 1] ?? 0)).toBeGreaterThanOrEqual(LABEL_SPACING);
  });

  it('lays out a cycle, drawing the call that closes it backwards', () => {
    const layout = layoutTopology({
      nodes: [],
      edges: [edge('a', 'b'), edge('b', 'c'), edge('c', 'a'), edge('a', 'a')],
    });
    expect(layout.nodes.map((n) => [n.service, n.rank])).toEqual([
      ['a', 0],
      ['b', 1],
      ['c', 2],
    ]);
    expect(layout.edges.filter((e) => e.backwards).map((e) => e.key)).toEqual(['a->a', 'c->a']);
  });

  it('is empty but drawable without traffic', () => {
    const layout = layoutTopology({ nodes: [], edges: [] });
    expect(layout.nodes).toEqual([]);
    expect(layout.width).toBeGreaterThan(0);
    expect(layout.height).toBeGreaterThan(0);
  });
});

describe('edge styles', () => {
  it('colours by error rate and thickens by rate on a log scale', () => {
    expect([0, 0.009, 0.01, 0.2].map(edgeTone)).toEqual(['ok', 'ok', 'warn', 'bad']);
    expect(edgeWidth(0)).toBe(1.5);
    expect(edgeWidth(1000)).toBeGreaterThan(edgeWidth(10));
    expect(edgeWidth(1e9)).toBe(7.5);
  });
});
