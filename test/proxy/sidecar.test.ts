import { connect, createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryAccessLog, Sidecar, type SidecarAddresses } from '../../packages/proxy/src/index.js';
import { http } from '../servers/http.js';
import { discoveryOf, routerFor, type Upstream, upstreams } from './helpers.js';

describe('Sidecar', () => {
  let ups: Upstream[];
  let sidecar: Sidecar;
  let addr: SidecarAddresses;
  let log: MemoryAccessLog;
  let echo: TcpServer;
  let echoPort: number;
  const base = () => `http://127.0.0.1:${addr.port}`;

  beforeAll(async () => {
    ups = await upstreams('r', 2, ['version=v1']);
    echo = createTcpServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
    echoPort = (echo.address() as { port: number }).port;
    const { discovery, source } = discoveryOf([['reviews', ups]]);
    source.set([
      ...ups.map((u) => u.instance('reviews')),
      {
        ...(ups[0] as Upstream).instance('echo'),
        id: 'echo-1',
        service: 'echo',
        endpoint: { type: 'tcp', value: `127.0.0.1:${echoPort}`, host: '127.0.0.1', port: echoPort },
      },
    ]);
    log = new MemoryAccessLog();
    const router = routerFor('guarded', () => ({ failure: 'no-route', message: 'no rule matches' }));
    sidecar = new Sidecar({
      discovery,
      router,
      port: 0,
      admin: { port: 0 },
      tcp: [{ service: 'echo', port: 0 }],
      accessLog: log,
      identity: { name: 'gateway' },
      maxBodyBytes: 1000,
    });
    addr = await sidecar.listen();
  });

  afterAll(async () => {
    await sidecar.close();
    await Promise.all(ups.map((u) => u.close()));
    echo.close();
  });

  it('routes /<service>/<path> with the prefix rewritten, and Host: <service>', async () => {
    const r1 = await http(`${base()}/reviews/api/1?x=2`);
    expect(r1.status).toBe(200);
    expect(JSON.parse(r1.body)).toMatchObject({ path: '/api/1?x=2' });
    const r2 = await http(`${base()}/reviews`);
    expect(JSON.parse(r2.body)).toMatchObject({ path: '/' });
    const r3 = await http(`${base()}/api/2`, { headers: { host: 'reviews' } });
    expect(JSON.parse(r3.body)).toMatchObject({ path: '/api/2' });
  });

  it('strips hop-by-hop headers, adds X-Forwarded-* and propagates the request id', async () => {
    await http(`${base()}/reviews/h`, {
      headers: {
        connection: 'keep-alive, x-secret',
        'x-secret': 'hop',
        'keep-alive': 'timeout=5',
        'x-request-id': 'rid-1',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      },
    });
    const seen = ups.find((u) => u.lastPath === '/h')?.lastHeaders ?? {};
    expect(seen['x-secret']).toBeUndefined();
    expect(seen['keep-alive']).toBeUndefined();
    expect(seen['x-request-id']).toBe('rid-1');
    expect(seen['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen['x-forwarded-proto']).toBe('http');
    expect(seen['x-forwarded-host']).toBe(`127.0.0.1:${addr.port}`);
    expect(seen.traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    const rec = log.records.find((r) => r.request_id === 'rid-1');
    expect(rec).toMatchObject({ src: 'gateway:', dst: 'reviews:', status: 200, path: '/h', method: 'GET' });
    expect(rec?.trace_id).toBe('0af7651916cd43dd8448eb211c80319c');
  });

  it('answers JSON errors with the request id: 404 unknown service, 412 no route, 503 no instance, 413 too large', async () => {
    const r404 = await http(`${base()}/nope/x`, { headers: { 'x-request-id': 'rid-404' } });
    expect(r404.status).toBe(404);
    expect(JSON.parse(r404.body)).toMatchObject({ code: 'WEFT_ERR_UNKNOWN_SERVICE', request_id: 'rid-404' });
    const r412 = await http(`${base()}/guarded/x`);
    expect(r412.status).toBe(412);
    expect(JSON.parse(r412.body)).toMatchObject({ code: 'WEFT_ERR_NO_ROUTE', status: 412 });
    expect(JSON.parse(r412.body).request_id).toMatch(/^[0-9a-f]{24}-[0-9a-z]+$/);
    const r413 = await http(`${base()}/reviews/up`, { method: 'POST', body: 'x'.repeat(2000) });
    expect(r413.status).toBe(413);
    expect(JSON.parse(r413.body)).toMatchObject({ code: 'WEFT_ERR_PAYLOAD_TOO_LARGE', status: 413 });
    // A chunked body (no content-length) over the limit fails while it streams: same code.
    const chunked = await request(`${base()}/reviews/up`, {
      method: 'POST',
      body: Readable.from([Buffer.alloc(600, 120), Buffer.alloc(600, 120)]),
    });
    expect(chunked.statusCode).toBe(413);
    expect(await chunked.body.json()).toMatchObject({ code: 'WEFT_ERR_PAYLOAD_TOO_LARGE', status: 413 });
    const r431 = await http(`${base()}/reviews/h`, { headers: { 'x-big': 'y'.repeat(20_000) } });
    expect(r431.status).toBe(431);
  });

  it('answers 503 when the service has no healthy instance and 504 when retries are exhausted', async () => {
    const ups2 = await upstreams('d', 1);
    const { discovery, source } = discoveryOf([['down', ups2]]);
    const s2 = new Sidecar({ discovery, port: 0, admin: false, accessLog: false, outlier: false });
    const a2 = await s2.listen();
    try {
      await (ups2[0] as Upstream).kill();
      const r504 = await http(`http://127.0.0.1:${a2.port}/down/x`);
      expect(r504.status).toBe(504);
      const body = JSON.parse(r504.body);
      expect(body).toMatchObject({ code: 'WEFT_ERR_RETRIES_EXHAUSTED' });
      expect(body.attempts).toHaveLength(3);
      source.set([{ ...(ups2[0] as Upstream).instance('down'), status: 'OUT_OF_SERVICE' }]);
      const r503 = await http(`http://127.0.0.1:${a2.port}/down/x`);
      expect(r503.status).toBe(503);
      expect(JSON.parse(r503.body)).toMatchObject({ code: 'WEFT_ERR_NO_ENDPOINTS' });
    } finally {
      await s2.close();
    }
  });

  it('serves health, metrics, endpoints and explain on the admin port', async () => {
    const admin = `http://127.0.0.1:${addr.adminPort}`;
    expect(JSON.parse((await http(`${admin}/health`)).body)).toMatchObject({ status: 'ok' });
    const metrics = await http(`${admin}/metrics`);
    expect(metrics.body).toMatch(/weft_requests_total\{service="reviews",code="200"\} \d+/);
    expect(metrics.body).toMatch(/weft_request_duration_seconds_bucket\{service="reviews",le="\+Inf"\} \d+/);
    const eps = JSON.parse((await http(`${admin}/debug/endpoints`)).body);
    expect(eps.services.reviews.endpoints).toHaveLength(2);
    expect(eps.services.reviews.endpoints[0]).toMatchObject({ ejected: false, breaker: 'closed' });
    const ex = JSON.parse((await http(`${admin}/debug/explain?service=guarded&path=/x`)).body);
    expect(ex).toMatchObject({ service: 'guarded', rules: true });
  });

  it('load-balances TCP connections on a per-service listener', async () => {
    const port = addr.tcpPorts.echo as number;
    const reply = await new Promise<string>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => s.write('ping'));
      s.on('data', (d) => {
        resolve(d.toString());
        s.end();
      });
      s.on('error', reject);
    });
    expect(reply).toBe('ping');
  });

  it('drains gracefully: in-flight requests finish, new connections are refused', async () => {
    const ups3 = await upstreams('s', 1);
    (ups3[0] as Upstream).handler = (_req, res) => {
      setTimeout(() => res.end('slow done'), 300);
    };
    const { discovery } = discoveryOf([['slow', ups3]]);
    const s3 = new Sidecar({ discovery, port: 0, admin: false, accessLog: false });
    const a3 = await s3.listen();
    const inflight = http(`http://127.0.0.1:${a3.port}/slow/`);
    await new Promise((r) => setTimeout(r, 50));
    const drained = s3.drain();
    const r = await inflight;
    expect(r.status).toBe(200);
    expect(r.body).toBe('slow done');
    await drained;
    await expect(http(`http://127.0.0.1:${a3.port}/slow/`)).rejects.toThrow();
    await (ups3[0] as Upstream).close();
  });
});
