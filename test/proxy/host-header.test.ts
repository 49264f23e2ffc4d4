/**
 * The Host upstreams get: the request's authority by default (as Envoy and Linkerd forward it),
 * the endpoint's address with `hostHeader: 'endpoint'`. The upstream echoes the Host it got.
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeshAgent, type MeshEngineOptions, Sidecar } from '../../packages/proxy/src/index.js';
import { discoveryOf, type Upstream, upstreams } from './helpers.js';
import { rawExchange } from './raw-net.js';

describe('Host header sent upstream', () => {
  let up: Upstream;
  let discovery: ReturnType<typeof discoveryOf>['discovery'];
  const closers: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    up = (await upstreams('u', 1))[0] as Upstream;
    up.handler = (req, res) => {
      req.resume();
      res.end(req.headers.host ?? '(none)');
    };
    discovery = discoveryOf([['svc', [up]]]).discovery;
  });

  afterAll(async () => {
    for (const close of closers) await close();
    await up.close();
  });

  function mesh(options: Partial<MeshEngineOptions> = {}): MeshAgent {
    const m = new MeshAgent({ discovery, ...options });
    closers.push(() => m.destroy());
    return m;
  }

  async function sidecar(options: Partial<MeshEngineOptions> = {}): Promise<number> {
    const s = new Sidecar({ discovery, port: 0, admin: false, accessLog: false, ...options });
    closers.push(() => s.close());
    return (await s.listen()).port;
  }

  /** The Host the upstream saw for a raw request to the sidecar. */
  async function viaSidecar(port: number, head: string): Promise<string> {
    const r = await rawExchange(port, `${head}\r\nConnection: close\r\n\r\n`);
    const text = r.bytes.toString('latin1');
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    return text.slice(text.indexOf('\r\n\r\n') + 4).replace(/^[0-9a-f]+\r\n|\r\n0\r\n\r\n$/g, '');
  }

  it('MeshAgent sends the origin host: fetch("http://svc/…") → Host: svc', async () => {
    const res = await fetch('http://svc/x', { dispatcher: mesh() } as unknown as RequestInit);
    expect(await res.text()).toBe('svc');
  });

  it('MeshAgent keeps a non-default port of the origin, and a Host the caller set', async () => {
    const m = mesh();
    const withPort = await request('http://svc:8080/x', { dispatcher: m });
    expect(await withPort.body.text()).toBe('svc:8080');
    const own = await request('http://svc/x', { dispatcher: m, headers: { Host: 'reviews.example' } });
    expect(await own.body.text()).toBe('reviews.example');
  });

  it("MeshAgent with hostHeader: 'endpoint' sends the instance's address, whatever the caller set", async () => {
    const m = mesh({ hostHeader: 'endpoint' });
    const plain = await request('http://svc/x', { dispatcher: m });
    expect(await plain.body.text()).toBe(`127.0.0.1:${up.port}`);
    const own = await request('http://svc/x', { dispatcher: m, headers: { host: 'reviews.example' } });
    expect(await own.body.text()).toBe(`127.0.0.1:${up.port}`);
  });

  it('the sidecar routed by path sends the service name (not its own address)', async () => {
    const port = await sidecar();
    expect(await viaSidecar(port, `GET /svc/x HTTP/1.1\r\nHost: 127.0.0.1:${port}`)).toBe('svc');
  });

  it("the sidecar routed by Host forwards the client's Host, port included", async () => {
    const port = await sidecar();
    expect(await viaSidecar(port, 'GET /x HTTP/1.1\r\nHost: svc')).toBe('svc');
    expect(await viaSidecar(port, 'GET /x HTTP/1.1\r\nHost: svc:6379')).toBe('svc:6379');
  });

  it("the sidecar routed by an absolute-form target's authority sends that authority", async () => {
    const port = await sidecar();
    expect(await viaSidecar(port, 'GET http://svc/x HTTP/1.1\r\nHost: elsewhere')).toBe('svc');
  });

  it("the sidecar with hostHeader: 'endpoint' sends the instance's address", async () => {
    const port = await sidecar({ hostHeader: 'endpoint' });
    expect(await viaSidecar(port, 'GET /svc/x HTTP/1.1\r\nHost: localhost')).toBe(`127.0.0.1:${up.port}`);
    expect(await viaSidecar(port, 'GET /x HTTP/1.1\r\nHost: svc')).toBe(`127.0.0.1:${up.port}`);
  });

  it('refuses an unknown hostHeader value', () => {
    expect(() => new MeshAgent({ discovery, hostHeader: 'client' as 'endpoint' })).toThrow(/hostHeader/);
  });
});
