import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlaneServer, createControlPlaneServer } from '../control-plane.js';
import { locateDashboard } from './assets.js';

/** A built dashboard of two files, as dist/dashboard holds one. */
function fakeBuild(): string {
  const dir = mkdtempSync(join(tmpdir(), 'weft-dashboard-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="./assets/main-ABC.js"></script>');
  writeFileSync(join(dir, 'assets', 'main-ABC.js'), `console.log(${JSON.stringify('x'.repeat(4000))});`);
  return dir;
}

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await request(url, { headers });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body };
}

describe('the dashboard, served by the control plane', () => {
  let dir: string;
  let app: ControlPlaneServer;
  let base: string;
  beforeAll(async () => {
    dir = fakeBuild();
    // `trusted`: every API call needs a bearer token; the dashboard's files must not.
    app = await createControlPlaneServer({ auth: [{ type: 'trusted' }], dashboard: { directory: dir } });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves its page without credentials, while the API asks for them', async () => {
    const page = await get(`${base}/ui/`);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(String(page.headers['content-security-policy'])).toContain("default-src 'self'");
    expect(page.body.toString()).toContain('main-ABC.js');
    expect((await get(`${base}/v1/rules`)).status).toBe(401);
    expect((await get(`${base}/api/v1/services`)).status).toBe(401);
  });

  it('sends the port’s root and /ui to /ui/', async () => {
    const root = await get(`${base}/`);
    expect([root.status, root.headers.location]).toEqual([302, '/ui/']);
    const ui = await get(`${base}/ui`);
    expect([ui.status, ui.headers.location]).toEqual([301, '/ui/']);
  });

  it('serves hashed assets as immutable, gzipped when asked, and answers 304 to a known ETag', async () => {
    const plain = await get(`${base}/ui/assets/main-ABC.js`);
    expect(plain.status).toBe(200);
    expect(plain.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(plain.headers['content-encoding']).toBeUndefined();
    const zipped = await get(`${base}/ui/assets/main-ABC.js`, { 'accept-encoding': 'gzip' });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.body.length).toBeLessThan(plain.body.length / 10);
    const again = await get(`${base}/ui/assets/main-ABC.js`, { 'if-none-match': String(plain.headers.etag) });
    expect(again.status).toBe(304);
    expect((await get(`${base}/ui/assets/other.js`)).status).toBe(404);
    expect((await get(`${base}/ui/assets/..%2Findex.html`)).status).toBe(404);
  });
});

describe('without a dashboard', () => {
  it('answers 503 saying why when the files are not there, and nothing at all with dashboard: false', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'weft-dashboard-'));
    const broken = await createControlPlaneServer({ dashboard: { directory: empty } });
    const none = await createControlPlaneServer({ dashboard: false });
    try {
      const base = await broken.listen({ host: '127.0.0.1', port: 0 });
      const page = await get(`${base}/ui/`);
      expect(page.status).toBe(503);
      expect(page.body.toString()).toMatch(/could not be loaded: .* holds no index\.html/);
      const other = await none.listen({ host: '127.0.0.1', port: 0 });
      expect((await get(`${other}/ui/`)).status).toBe(404);
      expect((await get(`${other}/`)).status).toBe(404);
    } finally {
      await broken.close();
      await none.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('finds the build next to the installed modules, and the sources in a clone', () => {
    const dist = mkdtempSync(join(tmpdir(), 'weft-dist-'));
    try {
      expect(locateDashboard(dist)).toEqual({ kind: 'missing', looked: [join(dist, 'dashboard')] });
      mkdirSync(join(dist, 'dashboard'));
      writeFileSync(join(dist, 'dashboard', 'index.html'), '');
      expect(locateDashboard(dist)).toEqual({ kind: 'directory', path: join(dist, 'dashboard') });
      // This very file's folder: a clone, built from dashboard/src.
      expect(locateDashboard(import.meta.dirname).kind).toBe('sources');
    } finally {
      rmSync(dist, { recursive: true, force: true });
    }
  });
});
