/**
 * Real `weft control-plane` and `weft sidecar` processes: the sidecar exports its proxy's spans
 * to a local OTLP/HTTP receiver (`--tracing-otlp-endpoint`), its admin `/metrics` carries the
 * agent's own gauges next to the proxy's, and every metric the Grafana dashboard
 * (deploy/grafana/weft-mesh.json) queries is one these processes export.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatTraceparent } from '../../packages/proxy/src/index.js';
import { listeningUrl, repoRoot, startWeft, type WeftProcess } from '../servers-cli/weft-process.js';
import { freePort, get, sidecarUrls, until } from '../sidecar-agent/helpers.js';
import { OtlpReceiver } from './otlp-receiver.js';

const receiver = new OtlpReceiver();
const started: WeftProcess[] = [];
const servers: Server[] = [];
let controlPlane = '';
let sidecar: { proxy: string; admin: string };
/** The traceparent headers the upstream received. */
const upstreamSaw: string[] = [];

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function post(path: string, body: unknown): Promise<number> {
  const res = await fetch(`${controlPlane}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return res.status;
}

beforeAll(async () => {
  const traces = await receiver.start();
  const upstream = await listen(
    createServer((req, res) => {
      upstreamSaw.push(String(req.headers.traceparent));
      res.end('web says hi');
    }),
  );
  // The sidecar's own app: what it registers while the health check passes.
  const app = await listen(createServer((_req, res) => res.end('ok')));
  const cp = startWeft(['control-plane', '--port', '0', '--log-level', 'warn']);
  started.push(cp);
  controlPlane = await listeningUrl(cp);
  expect(
    await post('/api/v1/instances', {
      service_name: 'web',
      endpoint: { type: 'http', value: `127.0.0.1:${upstream}` },
      tags: ['v1'],
      ttl: 60,
    }),
  ).toBe(201);
  // A rule to a tagged backend: the proxy's per-version series get samples.
  expect(await post('/v1/rules', { rules: [{ destination: 'web', route: { backends: [{ tags: ['v1'] }] } }] })).toBe(
    201,
  );
  const p = startWeft([
    'sidecar',
    '--service-name',
    'shop',
    '--endpoint-port',
    String(app),
    '--healthchecks',
    `http://127.0.0.1:${app}/`,
    '--health-interval',
    '1s',
    '--registry-url',
    controlPlane,
    '--proxy-port',
    String(await freePort()),
    '--admin-port',
    '0',
    '--tracing-otlp-endpoint',
    traces,
    '--log-level',
    'warn',
  ]);
  started.push(p);
  sidecar = await sidecarUrls(p);
}, 60_000);

afterAll(async () => {
  for (const p of started) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await Promise.all(started.map((p) => p.exited));
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  await receiver.close();
});

/** Every series and family name a scrape exports (a histogram's `_bucket`, `_sum`, `_count` too). */
function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type !== null) {
      names.add(type[1] as string);
      if (type[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(`${type[1]}${s}`);
    } else if (line !== '' && !line.startsWith('#')) names.add(line.split(/[{ ]/)[0] as string);
  }
  return names;
}

/** The metric names a PromQL expression reads: Weft's families are `weft_*` and `process_*`. */
function metricsIn(expr: string): string[] {
  const unquoted = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  return [...unquoted.matchAll(/\b(?:weft|process)_[a-z0-9_]+\b/g)].map((m) => m[0]);
}

interface Panel {
  title?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

describe('weft sidecar and control plane, observed', () => {
  it('exports the proxy span of a call to an OTLP receiver, child of the app’s traceparent', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parent = '00f067aa0ba902b7';
    const res = await until('the sidecar to route to web', async () => {
      const r = await get(`${sidecar.proxy}/web/hello`, {
        headers: { traceparent: formatTraceparent(traceId, parent, 1) },
      });
      return r.status === 200 ? r : undefined;
    });
    expect(res.body).toBe('web says hi');
    const spans = await receiver.waitFor(1, 15_000);
    const span = spans.find((s) => s.traceId === traceId);
    expect(span).toMatchObject({
      service: 'shop',
      parentSpanId: parent,
      kind: 3,
      attributes: { 'peer.service': 'web', 'http.response.status_code': 200 },
    });
    // The upstream got the proxy span's context: same trace, the span as parent.
    expect(upstreamSaw).toContain(formatTraceparent(traceId, span?.spanId ?? '', 1));
  });

  it('serves the agent’s registration and health checks next to the proxy’s metrics', async () => {
    const text = await until('the app to be registered', async () => {
      const t = (await get(`${sidecar.admin}/metrics`)).body;
      return t.includes('weft_agent_registered{service="shop"} 1') ? t : undefined;
    });
    expect(text).toContain('weft_agent_info{service="shop",mode="sidecar"} 1');
    expect(text).toMatch(/^weft_agent_health_check_up\{check="GET http:\/\/127\.0\.0\.1:\d+\/",type="http"\} 1$/m);
    expect(text).toMatch(/^weft_agent_rules_revision 1$/m);
    expect(text).toMatch(/^weft_requests_total\{service="web",code="200"\} [1-9]/m);
  });

  it('the Grafana dashboard queries only metrics Weft exports', async () => {
    // A call through the proxy first, so the per-service and per-version series have samples.
    await get(`${sidecar.proxy}/web/again`);
    const [proxyText, cpText] = await Promise.all([get(`${sidecar.admin}/metrics`), get(`${controlPlane}/metrics`)]);
    expect(cpText.status).toBe(200);
    const exported = new Set([...exportedNames(proxyText.body), ...exportedNames(cpText.body)]);
    const dashboard = JSON.parse(readFileSync(join(repoRoot, 'deploy', 'grafana', 'weft-mesh.json'), 'utf8')) as {
      panels: Panel[];
      templating: { list: { query?: string | { query?: string } }[] };
    };
    const exprs: string[] = [];
    const walk = (panels: Panel[]): void => {
      for (const p of panels) {
        for (const t of p.targets ?? []) if (t.expr !== undefined) exprs.push(t.expr);
        walk(p.panels ?? []);
      }
    };
    walk(dashboard.panels);
    for (const v of dashboard.templating.list) {
      const q = typeof v.query === 'string' ? v.query : v.query?.query;
      if (q !== undefined) exprs.push(q);
    }
    const used = new Set(exprs.flatMap(metricsIn));
    // The scan finds what it should: the dashboard covers proxies, versions, sidecars and the control plane.
    expect(used.size).toBeGreaterThanOrEqual(20);
    expect(metricsIn('rate(weft_nope_total{code="weft_in_a_string"}[5m])')).toEqual(['weft_nope_total']);
    expect([...used].filter((name) => !exported.has(name))).toEqual([]);
  });
});
