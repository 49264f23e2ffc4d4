import { MeshMetrics } from '@weft/proxy/sidecar';
import { describe, expect, it } from 'vitest';
import { callCounts, histogramQuantile, windowStats } from './canary-metrics.js';
import { parsePrometheus } from './prometheus.js';

describe('canary metrics from the proxy text format', () => {
  it("reads MeshMetrics' own exposition: requests, 5xx, and the window between two scrapes", () => {
    const metrics = new MeshMetrics();
    metrics.call('reviews', 200, 0.003, 0);
    metrics.call('ratings', 500, 0.003, 0);
    const before = callCounts(parsePrometheus(metrics.text()), 'reviews');
    for (let i = 0; i < 98; i++) metrics.call('reviews', 200, 0.003, 0);
    metrics.call('reviews', 503, 2, 0);
    metrics.call('reviews', 404, 0.003, 0);
    const stats = windowStats(before, callCounts(parsePrometheus(metrics.text()), 'reviews'));
    expect(stats).toMatchObject({ requests: 100, errors: 1, errorRate: 0.01 });
    // 99 calls in the 2.5–5 ms bucket: the median is inside it, the 99th at its top.
    expect(stats.p50).toBeGreaterThan(0.0025);
    expect(stats.p50).toBeLessThan(0.005);
    expect(stats.p99).toBeCloseTo(0.005, 6);
  });

  it('estimates quantiles as histogram_quantile does, the +Inf bucket at the highest bound', () => {
    const buckets = new Map([
      [0.1, 50],
      [1, 100],
      [Number.POSITIVE_INFINITY, 100],
    ]);
    expect(histogramQuantile(0.5, buckets)).toBeCloseTo(0.1);
    expect(histogramQuantile(0.75, buckets)).toBeCloseTo(0.55);
    expect(
      histogramQuantile(
        0.99,
        new Map([
          [Number.POSITIVE_INFINITY, 3],
          [0.5, 1],
        ]),
      ),
    ).toBe(0.5);
    expect(histogramQuantile(0.5, new Map())).toBeUndefined();
  });

  it('clamps a proxy restart (counters going down) to an empty window, and skips lines it cannot read', () => {
    const samples = parsePrometheus('# HELP x\nweft_requests_total{service="a",code="200"} 5\ngarbage line here\n');
    const after = callCounts(samples, 'a');
    const before = { ...after, requests: 9 };
    expect(windowStats(before, after)).toMatchObject({ requests: 0, errorRate: 0, p99: undefined });
  });
});
