import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile, InvalidArgumentError } from '@weft/core';
import { afterAll, describe, expect, it } from 'vitest';
import { type AccessLogEntry, RecentAccessLog } from '../agent/recent-access-log.js';
import { prepareCheck, replayBreaker } from './checks.js';
import { compileScenarios } from './compile.js';
import { parseGremlinDuration } from './duration.js';
import { parseRecipePart, readRecipeFile } from './files.js';
import { type RunRecord, toRunRecord } from './records.js';
import { Topology } from './topology.js';

// Amalgam8's bookinfo recipe files, as its repository had them.
const bookinfo = new Topology(
  parseRecipePart('topology', {
    services: [
      { name: 'gateway:version=none' },
      { name: 'productpage:version=v1' },
      { name: 'reviews:version=v2' },
      { name: 'details:version=v1' },
      { name: 'ratings:version=v1' },
    ],
    dependencies: {
      'gateway:version=none': ['productpage:version=v1'],
      'productpage:version=v1': ['reviews:version=v2', 'details:version=v1'],
      'reviews:version=v2': ['ratings:version=v1'],
    },
  }),
);

const scenarios = (...gremlins: Record<string, unknown>[]) => parseRecipePart('scenarios', { gremlins });
const run = { runId: 'recipe-test' };

describe('compileScenarios', () => {
  it('compiles the bookinfo delay into one scoped, tagged action rule and a trace rule per other edge', () => {
    const { rules, faults } = compileScenarios(
      scenarios({
        scenario: 'delay_requests',
        source: 'reviews:version=v2',
        dest: 'ratings:version=v1',
        delaytime: '7s',
      }),
      bookinfo,
      run,
    );
    expect(rules).toHaveLength(4);
    expect(rules[0]).toEqual({
      destination: 'ratings',
      priority: 1000,
      tags: ['recipe-test'],
      match: {
        source: { name: 'reviews', tags: ['version=v2'] },
        headers: { 'X-Request-ID': { prefix: 'recipe-test' } },
      },
      actions: [
        { action: 'trace', log_key: 'gremlin_recipe_id', log_value: 'recipe-test', tags: ['version=v1'] },
        { action: 'delay', duration: 7, probability: 1, tags: ['version=v1'] },
      ],
    });
    // The gateway is untagged ("version=none"): its rule matches any gateway instance.
    expect(rules.map((r) => `${r.match.source.name}->${r.destination}`)).toEqual([
      'reviews->ratings',
      'gateway->productpage',
      'productpage->reviews',
      'productpage->details',
    ]);
    expect(rules[1]?.match.source).toEqual({ name: 'gateway' });
    expect(faults).toEqual(['reviews:version=v2 → ratings:version=v1: delay 7s (p 1)']);
    // The controller's own validation accepts them.
    expect(() => compile({ rules })).not.toThrow();
  });

  it('expands an omitted source over the callers and an omitted dest over the callees', () => {
    const crash = compileScenarios(scenarios({ scenario: 'crash_service', dest: 'reviews:version=v2' }), bookinfo, run);
    expect(crash.faults).toEqual(['productpage:version=v1 → reviews:version=v2: reset (p 1)']);
    const fromProductpage = compileScenarios(
      scenarios({ scenario: 'abort_requests', source: 'productpage:version=v1', errorcode: 503 }),
      bookinfo,
      run,
    );
    expect(fromProductpage.faults).toEqual([
      'productpage:version=v1 → reviews:version=v2: abort 503 (p 1)',
      'productpage:version=v1 → details:version=v1: abort 503 (p 1)',
    ]);
    const overload = compileScenarios(
      scenarios({ scenario: 'overload_service', dest: 'ratings:version=v1' }),
      bookinfo,
      run,
    );
    expect(overload.faults).toEqual(['reviews:version=v2 → ratings:version=v1: delay 10s (p 0.5), abort 503 (p 0.5)']);
    const partition = compileScenarios(
      scenarios({ scenario: 'partition_services', source: 'reviews:version=v2', dest: 'ratings:version=v1' }),
      bookinfo,
      run,
    );
    expect(partition.faults).toEqual([
      'reviews:version=v2 → ratings:version=v1: reset (p 1)',
      'ratings:version=v1 → reviews:version=v2: reset (p 1)',
    ]);
  });

  it('refuses what it cannot express, naming the scenario and the field', () => {
    let error: unknown;
    try {
      compileScenarios(
        scenarios(
          { scenario: 'abort_responses', source: 'reviews:version=v2', dest: 'ratings:version=v1' },
          { scenario: 'delay_requests', source: 'reviews:version=v9', dest: 'ratings' },
          { scenario: 'abort_requests', dest: 'ratings:version=v1', errorcode: 42 },
        ),
        bookinfo,
        { ...run, where: 'scenarios file g.json' },
      );
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidArgumentError);
    const issues = (error as InvalidArgumentError).issues;
    expect(issues.map((i) => i.path)).toEqual(['gremlins[0].scenario', 'gremlins[1].source', 'gremlins[2].errorcode']);
    expect(issues[0]?.message).toMatch(/abort_responses cannot be expressed.*--responses-as-requests/);
    expect((error as Error).message).toMatch(/^Invalid scenarios file g\.json: /);
    // As a8ctl did, on request.
    const asRequests = compileScenarios(
      scenarios({ scenario: 'abort_responses', source: 'reviews:version=v2', dest: 'ratings:version=v1' }),
      bookinfo,
      { ...run, responses: 'as-requests' },
    );
    expect(asRequests.faults).toEqual(['reviews:version=v2 → ratings:version=v1: reset (p 1)']);
  });

  it('resolves a8ctl-style versions against the registry: reviews:v2 means version=v2 when instances carry that', () => {
    const instances = [{ service_name: 'reviews', tags: ['version=v2'] }];
    const topology = new Topology(
      parseRecipePart('topology', { services: [], dependencies: { web: ['reviews:v2'] } }),
      instances,
    );
    const { rules } = compileScenarios(scenarios({ scenario: 'delay_requests', dest: 'reviews:v2' }), topology, {
      ...run,
      instances,
    });
    expect(rules[0]?.actions[0]).toMatchObject({ tags: ['version=v2'] });
  });
});

describe('recipe files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-recipe-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads JSON and YAML, and names the file and the field of a mistake', async () => {
    writeFileSync(
      join(dir, 'checks.yaml'),
      'checks:\n  - name: bounded_response_time\n    source: a\n    dest: b\n    max_latency: 1s500ms\n',
    );
    const checks = await readRecipeFile('checks', join(dir, 'checks.yaml'));
    expect(checks.checks[0]).toMatchObject({ name: 'bounded_response_time', max_latency: 1500 });
    writeFileSync(
      join(dir, 'bad.json'),
      JSON.stringify({ gremlins: [{ scenario: 'delay_requests', delaytime: '7 s' }] }),
    );
    await expect(readRecipeFile('scenarios', join(dir, 'bad.json'))).rejects.toThrow(
      /^Invalid scenarios file .*bad\.json: gremlins\[0\]\.delaytime: must be a duration/,
    );
    writeFileSync(join(dir, 'typo.json'), JSON.stringify({ checks: [{ name: 'bounded_latency' }] }));
    await expect(readRecipeFile('checks', join(dir, 'typo.json'))).rejects.toThrow(
      /checks\[0\]\.name: name must be one of/,
    );
    await expect(readRecipeFile('topology', join(dir, 'missing.json'))).rejects.toThrow(/missing\.json: no such file/);
  });

  it('parses Go durations', () => {
    expect(parseGremlinDuration('7s')).toBe(7000);
    expect(parseGremlinDuration('1s500ms')).toBe(1500);
    expect(parseGremlinDuration('1.5m')).toBe(90_000);
    expect(parseGremlinDuration(2)).toBe(2000);
    expect(parseGremlinDuration('7')).toBeUndefined();
    expect(parseGremlinDuration('7 s')).toBeUndefined();
  });
});

/** A record of reviews:v2 calling ratings, `ms` after t0, lasting `durationMs`. */
function rec(id: string, at: number, status: number, extra: Partial<Record<string, unknown>> = {}): RunRecord {
  const raw = {
    src: 'reviews:version=v2',
    dst: 'ratings:',
    status,
    start_time: new Date(1_000_000 + at).toISOString(),
    request_time: 0.01,
    timestamp_in_ms: 1_000_000 + at + 10,
    method: 'GET',
    path: '/ratings/1',
    request_id: id,
    upstream_host: '127.0.0.1:9',
    attempts: 1,
    ...extra,
  };
  return toRunRecord(raw, 'p', [
    { service_name: 'ratings', endpoint: { value: '127.0.0.1:9' }, tags: ['version=v1'] },
  ]) as RunRecord;
}

describe('checks', () => {
  const check = (c: Record<string, unknown>) =>
    prepareCheck(parseRecipePart('checks', { checks: [c] }).checks[0] as never);
  const edge = { source: 'reviews:version=v2', dest: 'ratings:version=v1' };

  it('matches the callee by the instance the registry knows at upstream_host', () => {
    const records = [rec('r-1', 0, 200)];
    expect(check({ name: 'http_status', ...edge, status: 200 }).judge(records).passed).toBe(true);
    const v2 = check({ name: 'http_status', source: 'reviews:version=v2', dest: 'ratings:version=v2', status: 200 });
    expect(v2.judge(records)).toMatchObject({ passed: false, records: 0, message: expect.stringMatching(/no record/) });
  });

  it('judges statuses, latency, retries and request counts', () => {
    const records = [rec('r-1', 0, 200), rec('r-2', 100, 503), rec('r-2', 200, 200, { attempts: 2, request_time: 2 })];
    expect(check({ name: 'http_status', ...edge, status: [200, 503] }).judge(records).passed).toBe(true);
    expect(check({ name: 'http_success_status', ...edge }).judge(records).message).toMatch(
      /1 of 3 failed: 503 \(r-2\)/,
    );
    expect(check({ name: 'bounded_response_time', ...edge, max_latency: '1s' }).judge(records).message).toMatch(
      /1 of 3 took longer than 1s \(slowest 2s, request r-2\)/,
    );
    expect(check({ name: 'bounded_retries', ...edge, retries: 2 }).judge(records).passed).toBe(true);
    expect(check({ name: 'bounded_retries', ...edge, retries: 1 }).judge(records).message).toMatch(
      /r-2 was tried 3 times/,
    );
    expect(check({ name: 'at_most_requests', ...edge, num_requests: 2 }).judge(records).passed).toBe(false);
    expect(
      check({ name: 'no_proxy_errors' }).judge([
        ...records,
        rec('r-3', 300, 503, { error_code: 'WEFT_ERR_NO_ENDPOINTS' }),
      ]).passed,
    ).toBe(false);
    expect(
      check({ name: 'no_proxy_errors' }).judge([...records, rec('r-3', 300, 504, { error_code: 'WEFT_ERR_TIMEOUT' })])
        .passed,
    ).toBe(true);
  });

  it('replays a circuit breaker: a call reaching the destination while it should be open fails the check', () => {
    const failing = [0, 10, 20].map((t, i) => rec(`f-${i}`, t, 503));
    // Two failures allowed; the third opens it for 1 s; a call 500 ms later went through.
    expect(replayBreaker([...failing, rec('x', 530, 503)], 2, 1000, 1).ok).toBe(false);
    // Refused by the proxy's breaker instead: as designed.
    expect(
      replayBreaker([...failing, rec('x', 530, 503, { error_code: 'WEFT_ERR_CIRCUIT_OPEN' })], 2, 1000, 1).ok,
    ).toBe(true);
    // After reset_time a probe may go; its success closes the circuit.
    expect(replayBreaker([...failing, rec('p', 1100, 200), rec('q', 1110, 200)], 2, 1000, 1)).toMatchObject({
      ok: true,
    });
  });

  it('bulkhead: calls to the other dependencies keep their rate while one is slow', () => {
    const c = check({
      name: 'bulkhead',
      source: 'reviews:version=v2',
      dependencies: ['ratings', 'slow'],
      slow_dest: 'slow',
      rate: 10,
    });
    expect(c.judge([rec('a', 0, 200), rec('b', 90, 200), rec('c', 180, 200)]).passed).toBe(true);
    expect(c.judge([rec('a', 0, 200), rec('b', 400, 200)]).message).toMatch(/stalled: 400ms between two/);
  });
});

describe('RecentAccessLog', () => {
  it('keeps the newest records, filters them, and says when some were pushed out', () => {
    const ring = new RecentAccessLog(3);
    for (let i = 1; i <= 5; i++)
      ring.write({
        ...(rec(`r-${i}`, i, 200).raw as AccessLogEntry),
        timestamp_in_ms: i,
        ...(i % 2 === 0 ? { gremlin_recipe_id: 'x' } : {}),
      });
    const all = ring.query();
    expect(all.records.map((r) => r.request_id)).toEqual(['r-3', 'r-4', 'r-5']);
    expect(all).toMatchObject({ capacity: 3, size: 3, evicted: 2, oldest_ms: 3 });
    expect(ring.query({ field: 'gremlin_recipe_id', value: 'x' }).records.map((r) => r.request_id)).toEqual(['r-4']);
    expect(ring.query({ requestIdPrefix: 'r-5' }).records).toHaveLength(1);
    expect(ring.query({ since: 5 }).records).toHaveLength(1);
  });
});
