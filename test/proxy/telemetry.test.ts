import { AsyncLocalStorage } from 'node:async_hooks';
import { PassThrough } from 'node:stream';
import {
  type Attributes,
  type Context,
  type ContextManager,
  context,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  type SpanOptions,
  type SpanStatus,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { Registry } from 'prom-client';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeshAgent, pinoAccessLog } from '../../packages/proxy/src/index.js';
import { discoveryOf, type Upstream, upstreams } from './helpers.js';

interface RecordedSpan {
  name: string;
  attributes: Attributes;
  status?: SpanStatus;
  ended: boolean;
  context: SpanContext;
  parent: SpanContext | undefined;
}

/** A minimal recording tracer: enough to see what the proxy reports. */
class FakeTracer implements Tracer {
  readonly spans: RecordedSpan[] = [];
  startSpan(name: string, options?: SpanOptions, ctx?: Context): Span {
    const parent = ctx === undefined ? undefined : trace.getSpanContext(ctx);
    const hex = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join('');
    const rec: RecordedSpan = {
      name,
      attributes: { ...options?.attributes },
      ended: false,
      context: { traceId: parent?.traceId ?? hex(32), spanId: hex(16), traceFlags: 1 },
      parent,
    };
    this.spans.push(rec);
    const span: Span = {
      spanContext: () => rec.context,
      setAttribute: (k, v) => {
        if (v !== undefined) rec.attributes[k] = v;
        return span;
      },
      setAttributes: (a) => {
        Object.assign(rec.attributes, a);
        return span;
      },
      addEvent: () => span,
      addLink: () => span,
      addLinks: () => span,
      setStatus: (s) => {
        rec.status = s;
        return span;
      },
      updateName: () => span,
      end: () => {
        rec.ended = true;
      },
      isRecording: () => true,
      recordException: () => undefined,
    };
    return span;
  }
  startActiveSpan(): never {
    throw new Error('not used');
  }
}

/** OpenTelemetry's context on AsyncLocalStorage, as @opentelemetry/context-async-hooks provides it. */
class AlsContextManager implements ContextManager {
  private readonly als = new AsyncLocalStorage<Context>();
  active(): Context {
    return this.als.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.als.run(ctx, () => fn.apply(thisArg, args));
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.als.disable();
    return this;
  }
}

describe('telemetry', () => {
  let ups: Upstream[];
  let discovery: ReturnType<typeof discoveryOf>['discovery'];

  beforeAll(async () => {
    ups = await upstreams('t', 2, ['version=v1']);
    discovery = discoveryOf([['ratings', ups]]).discovery;
  });

  afterAll(async () => {
    await Promise.all(ups.map((u) => u.close()));
  });

  it('records an OpenTelemetry client span per call and propagates its traceparent', async () => {
    const tracer = new FakeTracer();
    const mesh = new MeshAgent({ discovery, tracer });
    const incoming = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const res = await request('http://ratings/r/1', { dispatcher: mesh, headers: { traceparent: incoming } });
    await res.body.text();
    expect(tracer.spans).toHaveLength(1);
    const span = tracer.spans[0] as RecordedSpan;
    expect(span).toMatchObject({ name: 'GET ratings', ended: true });
    expect(span.attributes).toMatchObject({ 'http.request.method': 'GET', 'http.response.status_code': 200 });
    expect(span.parent?.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    const sent = ups.map((u) => u.lastHeaders.traceparent).find((t) => t !== undefined);
    expect(sent).toBe(`00-0af7651916cd43dd8448eb211c80319c-${span.context.spanId}-01`);
    await mesh.close();
  });

  it("withIncoming: the app's active span is the parent when there is one, else the inherited traceparent", async () => {
    context.setGlobalContextManager(new AlsContextManager());
    const tracer = new FakeTracer();
    const mesh = new MeshAgent({ discovery, tracer });
    const incoming = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const call = async (path: string) => (await request(`http://ratings${path}`, { dispatcher: mesh })).body.text();
    try {
      await mesh.withIncoming({ traceparent: incoming }, () => call('/inherited'));
      expect(tracer.spans[0]?.parent).toMatchObject({
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: 'b7ad6b7169203331',
      });
      const server = tracer.startSpan('GET /page', {}, ROOT_CONTEXT);
      await mesh.withIncoming({ traceparent: incoming }, () =>
        context.with(trace.setSpan(context.active(), server), () => call('/active')),
      );
      const client = tracer.spans[2] as RecordedSpan;
      expect(client.parent?.spanId).toBe(server.spanContext().spanId);
      // One traceparent goes upstream: the client span's.
      const sent = ups.map((u) => u.lastHeaders).find((h) => h.traceparent?.includes(client.context.spanId));
      expect(sent?.traceparent).toBe(`00-${client.context.traceId}-${client.context.spanId}-01`);
    } finally {
      context.disable();
      await mesh.close();
    }
  });

  it('traces through the global tracer provider once one is registered, and not before', async () => {
    const mesh = new MeshAgent({ discovery });
    const r1 = await request('http://ratings/none', { dispatcher: mesh });
    await r1.body.text();
    const tracer = new FakeTracer();
    class TestProvider implements TracerProvider {
      getTracer(): Tracer {
        return tracer;
      }
    }
    trace.setGlobalTracerProvider(new TestProvider());
    try {
      // The provider check is cached for a second.
      await new Promise((r) => setTimeout(r, 1100));
      const r2 = await request('http://ratings/traced', { dispatcher: mesh });
      await r2.body.text();
      expect(tracer.spans.map((s) => s.name)).toEqual(['GET ratings']);
    } finally {
      trace.disable();
      await mesh.close();
    }
  });

  it('exposes Prometheus metrics: requests by code, latency histogram, retries, ejections', async () => {
    const registry = new Registry();
    const mesh = new MeshAgent({ discovery, metrics: registry });
    for (let i = 0; i < 5; i++) await (await request('http://ratings/m', { dispatcher: mesh })).body.text();
    const text = await registry.metrics();
    expect(text).toContain('# TYPE weft_requests_total counter');
    expect(text).toMatch(/weft_requests_total\{service="ratings",code="200"\} 5/);
    expect(text).toMatch(/weft_request_duration_seconds_count\{service="ratings"\} 5/);
    expect(text).toMatch(/weft_request_duration_seconds_bucket\{service="ratings",le="\+Inf"\} 5/);
    expect(text).toContain('weft_retries_total{service="ratings"} 0');
    expect(text).toContain('weft_ejections_total{service="ratings"} 0');
    await mesh.close();
  });

  it('writes access-log records through pino as JSON lines', async () => {
    const out = new PassThrough();
    const lines: string[] = [];
    out.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
    const mesh = new MeshAgent({
      discovery,
      identity: { name: 'reviews', tags: ['version=v2'] },
      accessLog: pinoAccessLog({ destination: out }),
    });
    await (await request('http://ratings/log', { dispatcher: mesh, headers: { 'x-request-id': 'r-9' } })).body.text();
    await mesh.close();
    const rec = JSON.parse(lines.find((l) => l.includes('r-9')) ?? '{}');
    expect(rec).toMatchObject({
      level: 30,
      log: 'access',
      src: 'reviews:version=v2',
      dst: 'ratings:',
      status: 200,
      method: 'GET',
      path: '/log',
      request_id: 'r-9',
      attempts: 1,
    });
    for (const f of ['start_time', 'request_time', 'upstream_response_time', 'timestamp_in_ms', 'upstream_host'])
      expect(rec).toHaveProperty(f);
  });
});
