/**
 * One trace across three services over real HTTP: a client → service A → service B → service C,
 * each with its own MeshAgent and its own tracer provider (as three processes would have),
 * exporting OTLP/HTTP JSON to a local receiver. Each service opens a server span from the
 * incoming `traceparent` (parsed with @weft/proxy's `parseTraceparent`) and calls the next one
 * inside `mesh.withIncoming`, the proxy's documented way to carry a request's context to the
 * calls it makes: the proxy's client span is then the child of the active server span, and its
 * `traceparent` goes to the next hop.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { Discovery, instanceId, ManualSource, type ServiceInstance } from '@weft/core';
import { fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeshAgent, parseTraceparent } from '../../packages/proxy/src/index.js';
import { OtlpReceiver } from './otlp-receiver.js';

const receiver = new OtlpReceiver();
const providers: TracerProvider[] = [];
const servers: Server[] = [];
const meshes: MeshAgent[] = [];
const contextManager = new AsyncLocalStorageContextManager();
let tracesUrl = '';

/** A tracer provider for one service: its own resource, exporting each span as it ends. */
function providerFor(service: string): TracerProvider {
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new SimpleSpanProcessor({ exporter: new OTLPTraceExporter({ url: tracesUrl }) })],
  });
  providers.push(provider);
  return provider;
}

function instance(service: string, port: number): ServiceInstance {
  const value = `127.0.0.1:${port}`;
  return {
    id: instanceId(service, 'http', value),
    namespace: 'default',
    service,
    endpoint: { type: 'http', value, host: '127.0.0.1', port },
    tags: [],
    metadata: {},
    status: 'UP',
    ttl: 30,
    registeredAt: 0,
    lastHeartbeat: 0,
  };
}

/**
 * Service `name`: a server span per request (child of the incoming traceparent), and, when
 * `next` is given, a call to it through the service's own MeshAgent inside `withIncoming`.
 */
async function service(name: string, discovery: Discovery, next: string | undefined): Promise<number> {
  const tracer = providerFor(name).getTracer(name);
  const mesh = new MeshAgent({ discovery, tracer });
  meshes.push(mesh);
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const parent = parseTraceparent(req.headers.traceparent as string | undefined);
    const remote =
      parent === undefined
        ? ROOT_CONTEXT
        : trace.setSpanContext(ROOT_CONTEXT, {
            traceId: parent.traceId,
            spanId: parent.spanId,
            traceFlags: parent.flags,
            isRemote: true,
          });
    const span = tracer.startSpan(`GET ${name}`, { kind: SpanKind.SERVER }, remote);
    await context.with(trace.setSpan(remote, span), () =>
      mesh.withIncoming(req.headers, async () => {
        const below = next === undefined ? '' : await (await fetch(`http://${next}/`, { dispatcher: mesh })).text();
        res.end(`${name}${below === '' ? '' : ` > ${below}`}`);
      }),
    );
    span.end();
  };
  const server = createServer((req, res) => void handle(req, res));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

beforeAll(async () => {
  context.setGlobalContextManager(contextManager.enable());
  tracesUrl = await receiver.start();
});

afterAll(async () => {
  await Promise.all(meshes.map((m) => m.close()));
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  await Promise.all(providers.map((p) => p.shutdown()));
  await receiver.close();
  context.disable();
});

describe('OpenTelemetry across hops', () => {
  it('exports ONE trace spanning three services to an OTLP/HTTP receiver', async () => {
    const source = new ManualSource('test', []);
    const discovery = new Discovery({ sources: [source] });
    const c = await service('svc-c', discovery, undefined);
    const b = await service('svc-b', discovery, 'svc-c');
    const a = await service('svc-a', discovery, 'svc-b');
    source.set([instance('svc-a', a), instance('svc-b', b), instance('svc-c', c)]);
    // The client: its own MeshAgent and tracer; its client span is the trace's root.
    const client = new MeshAgent({ discovery, tracer: providerFor('client').getTracer('client') });
    meshes.push(client);

    const body = await (await fetch('http://svc-a/', { dispatcher: client })).text();
    expect(body).toBe('svc-a > svc-b > svc-c');

    // client → A, A → B, B → C client spans (the proxies'), and the three server spans.
    const spans = await receiver.waitFor(6);
    expect(spans).toHaveLength(6);
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['client', 'svc-a', 'svc-b', 'svc-c']));
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const root = spans.filter((s) => s.parentSpanId === '');
    expect(root.map((s) => [s.service, s.name])).toEqual([['client', 'GET svc-a']]);
    // Walk up from C's server span: every parent was exported, and the hops alternate server ←
    // client, each client span naming the service it called (peer.service).
    const chain: string[] = [];
    for (let s = spans.find((x) => x.service === 'svc-c'); s !== undefined; s = byId.get(s.parentSpanId))
      chain.push(`${s.service}:${s.kind === 2 ? 'server' : s.kind === 3 ? 'client' : s.kind}`);
    expect(chain).toEqual([
      'svc-c:server',
      'svc-b:client',
      'svc-b:server',
      'svc-a:client',
      'svc-a:server',
      'client:client',
    ]);
    const callOf = (svc: string) => spans.find((s) => s.service === svc && s.kind === 3)?.attributes;
    expect(callOf('svc-a')).toMatchObject({ 'peer.service': 'svc-b', 'http.response.status_code': 200 });
    expect(callOf('svc-b')).toMatchObject({ 'peer.service': 'svc-c', 'http.response.status_code': 200 });
  });
});
