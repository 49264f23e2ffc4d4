/**
 * In-flight counts of least-request pickers across Discovery changes: the counts live on the
 * endpoint entries (`EndpointEntry.load`), a rebuilt picker carries on with them, and an attempt
 * reports its end to the picker that started it.
 */
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { MeshAgent, type Router } from '../../packages/proxy/src/index.js';
import { Discovery, loopbackInstance, ManualSource, routerFor, sleep, type Upstream, upstreams } from './helpers.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.();
});

type CountingPicker = { inFlight(i: number): number; endpoints: Array<{ id: string; address: string }> };

function pickerOf(mesh: MeshAgent, key?: string): CountingPicker {
  const subsets = mesh.engine.table('svc').subsets;
  const s = key === undefined ? subsets.values().next().value : subsets.get(key);
  return s?.picker as unknown as CountingPicker;
}

function holdAll(u: Upstream, held: Array<() => void>): void {
  u.handler = (req, res) => {
    req.resume();
    held.push(() => {
      // Released by the test, then again by the cleanup (for a test that failed half-way).
      if (!res.headersSent) res.writeHead(200, { 'content-type': 'text/plain' }).end(u.name);
    });
  };
}

async function get(mesh: MeshAgent): Promise<string> {
  const res = await request('http://svc/', { dispatcher: mesh });
  const text = await res.body.text();
  return text.startsWith('{') ? (JSON.parse(text) as { upstream: string }).upstream : text;
}

/**
 * A MeshAgent over `source` (outlier ejection off), cleaned up after the test with `ups`; the
 * first upstream holds every response until the test calls the functions in `held`.
 */
function setup(
  source: ManualSource,
  ups: [Upstream, Upstream],
  router?: Router,
): { mesh: MeshAgent; held: Array<() => void> } {
  const mesh = new MeshAgent({
    discovery: new Discovery({ sources: [source] }),
    outlier: false,
    ...(router === undefined ? {} : { router }),
  });
  const held: Array<() => void> = [];
  cleanup.push(async () => {
    for (const release of held) release();
    await mesh.destroy();
    await Promise.all(ups.map((u) => u.close().catch(() => undefined)));
  });
  holdAll(ups[0], held);
  return { mesh, held };
}

describe('least-request in-flight counts across picker rebuilds', () => {
  it('an instance whose address changes (same id) does not keep the old calls counted forever', async () => {
    const [u0, u1] = (await upstreams('u', 2)) as [Upstream, Upstream];
    const inst = (u: Upstream) => ({ ...loopbackInstance('svc', 'http', u.port), id: 'pod-1' });
    const source = new ManualSource('test', [inst(u0)]);
    const { mesh, held } = setup(source, [u0, u1]);
    const slow = Array.from({ length: 3 }, () => get(mesh));
    while (held.length < 3) await sleep(5);
    expect(pickerOf(mesh).inFlight(0)).toBe(3);
    // The instance moved (a Consul service re-registered with its id at a new address).
    source.set([inst(u1)]);
    expect(await get(mesh)).toBe('u1');
    for (const release of held) release();
    expect(await Promise.all(slow)).toEqual(['u0', 'u0', 'u0']);
    await sleep(20);
    const p = pickerOf(mesh);
    expect(p.endpoints.map((e) => e.address)).toEqual([`127.0.0.1:${u1.port}`]);
    // Nothing is in flight any more.
    expect(p.inFlight(0)).toBe(0);
  });

  it('an instance that leaves a subset and comes back: its calls stay counted, old and new', async () => {
    const [u0, u1] = (await upstreams('u', 2)) as [Upstream, Upstream];
    const inst = (u: Upstream, tag: string) => loopbackInstance('svc', 'http', u.port, [tag]);
    const source = new ManualSource('test', [inst(u0, 'v1')]);
    const { mesh, held } = setup(
      source,
      [u0, u1],
      routerFor('svc', () => ({ backendTags: ['v1'] })),
    );
    const x1 = get(mesh);
    while (held.length < 1) await sleep(5);
    // u0 is relabelled v2 for a while (it stays an instance of the service), then back to v1.
    source.set([inst(u0, 'v2'), inst(u1, 'v1')]);
    expect(await get(mesh)).toBe('u1');
    source.set([inst(u0, 'v1')]);
    const x2 = get(mesh);
    while (held.length < 2) await sleep(5);
    const p = pickerOf(mesh, 'least_request|v1');
    // The entry kept its load while out of the subset: x1 is still in flight on u0, and x2 too.
    expect(p.inFlight(0)).toBe(2);
    (held[0] as () => void)(); // x1, started two pickers ago, ends
    expect(await x1).toBe('u0');
    await sleep(20);
    // x2 is still in flight on u0.
    expect(pickerOf(mesh, 'least_request|v1').inFlight(0)).toBe(1);
    (held[1] as () => void)();
    expect(await x2).toBe('u0');
  });
});

describe('endpoint load carried by the entries across picker rebuilds', () => {
  it('least_request keeps avoiding a busy endpoint after another one joins', async () => {
    const [u0, u1] = (await upstreams('u', 2)) as [Upstream, Upstream];
    const inst = (u: Upstream, id: string) => ({ ...loopbackInstance('svc', 'http', u.port), id });
    const source = new ManualSource('test', [inst(u0, 'busy')]);
    const { mesh, held } = setup(source, [u0, u1]);
    const slow = Array.from({ length: 3 }, () => get(mesh));
    while (held.length < 3) await sleep(5);
    const before = pickerOf(mesh);
    source.set([inst(u1, 'joined'), inst(u0, 'busy')]);
    mesh.engine.table('svc').refresh(); // what the next request would do
    const after = pickerOf(mesh) as CountingPicker & { pickIndex(): number };
    expect(after).not.toBe(before); // a new picker, over the entries of the new set
    const busy = after.endpoints.findIndex((e) => e.id === 'busy');
    const joined = after.endpoints.findIndex((e) => e.id === 'joined');
    expect(after.inFlight(busy)).toBe(3); // carried: a fresh count would make it look idle
    expect(after.inFlight(joined)).toBe(0); // the newcomer starts idle
    for (let k = 0; k < 20; k++) expect(after.pickIndex()).toBe(joined);
    expect(await get(mesh)).toBe('u1');
    for (const release of held) release();
    expect(await Promise.all(slow)).toEqual(['u0', 'u0', 'u0']);
    await sleep(20);
    // The calls started on the previous picker ended there, and the current one saw them end.
    expect(after.inFlight(busy)).toBe(0);
  });
});
