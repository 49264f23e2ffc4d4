/**
 * WeftRulesSource against the rules controller on loopback, feeding a real `rulesRouter`: pushed
 * updates over SSE, the fallbacks, an older revision refused, last-known-good rules while the
 * controller is down, convergence after it restarts on the same port with the same file.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type RulesFollow, WeftRulesSource, type WeftRulesSourceOptions } from '@weft/adapters/weft';
import { type RulesRouter, rulesRouter } from '@weft/proxy';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { allTo, FAST, RecordingLogger, setRoutes, tempDir, until } from '../control-plane/helpers.js';
import { MeddlingProxy } from '../control-plane/meddling-proxy.js';
import { type ServerHandle, startController } from '../control-plane/servers.js';

let controller: ServerHandle;
let dir: string;
let removeDir: () => Promise<void>;

beforeAll(async () => {
  const tmp = await tempDir('weft-rules-source-');
  dir = tmp.dir;
  removeDir = tmp.remove;
  controller = await startController({ dir });
});
afterAll(async () => {
  await controller?.stop();
  await removeDir?.();
});

/** The version tag the router sends a plain GET of `service` to (`[]` when no rule names it). */
function routedTo(router: RulesRouter, service: string): readonly string[] {
  const plan = router.route({ service, method: 'GET', path: '/', headers: {}, source: undefined });
  if ('failure' in plan) throw new Error(plan.message);
  return plan.backendTags;
}

describe('WeftRulesSource', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  /** A router following the controller (through a meddling proxy). */
  async function follow(options: Partial<WeftRulesSourceOptions> = {}, upstream = controller) {
    const proxy = await MeddlingProxy.start(upstream.port);
    const logger = new RecordingLogger();
    const source = new WeftRulesSource({ url: proxy.url, logger, ...FAST, ...options });
    const router = rulesRouter([]);
    const errors: Error[] = [];
    const following: RulesFollow = source.follow(router, { onError: (e) => errors.push(e) });
    cleanup.push(async () => {
      following.unsubscribe();
      await source.close();
      await proxy.close();
    });
    return { proxy, logger, source, router, following, errors };
  }

  it('follows the controller over SSE: a route change reaches the router within a second', async () => {
    await setRoutes(controller.url, 'sse-dest', [allTo('sse-dest', 'v1')]);
    const f = await follow();
    await f.following.ready();
    expect(routedTo(f.router, 'sse-dest')).toEqual(['version=v1']);
    const seen = f.proxy.seen.length;
    await setRoutes(controller.url, 'sse-dest', [allTo('sse-dest', 'v2')]);
    const took = await until(() => routedTo(f.router, 'sse-dest')[0] === 'version=v2', 'v2 in the router', 1_000);
    expect(took).toBeLessThan(1_000);
    expect(f.proxy.seen.length).toBe(seen); // pushed on the open stream
    expect(f.following.revision).toBe(f.router.ruleSet.revision);
    expect(f.following.stale).toBe(false);
  });

  it('falls back to long-poll when SSE is refused, and to polling when revisions are hidden', async () => {
    const lp = await follow({ pollIntervalMs: 150 });
    lp.proxy.sse = 'refuse';
    lp.proxy.refuseStatus = 405;
    const poll = await follow({ pollIntervalMs: 150 });
    poll.proxy.sse = 'plain';
    poll.proxy.hideRevisions = true;
    await Promise.all([lp.following.ready(), poll.following.ready()]);
    await setRoutes(controller.url, 'fb-dest', [allTo('fb-dest', 'v3')]);
    await until(() => routedTo(lp.router, 'fb-dest')[0] === 'version=v3', 'the change by long-poll', 1_000);
    await until(() => routedTo(poll.router, 'fb-dest')[0] === 'version=v3', 'the change by polling', 1_000);
    expect(lp.logger.messages('WEFT_WARN_WATCH_FALLBACK').join()).toMatch(/by long-poll/);
    expect(lp.proxy.longPolls.length).toBeGreaterThan(0);
    expect(poll.logger.messages('WEFT_WARN_WATCH_FALLBACK').join()).toMatch(/by polling every 150 ms/);
    // Polling without x-weft-index still knows the revision: the controller's body carries it.
    expect(poll.following.revision).toBe(lp.following.revision);
  });

  it.each(['sse', 'long-poll'] as const)(
    'never applies an older revision than the one in force, and applies the first newer one (%s)',
    async (transport) => {
      const other = await tempDir('weft-rules-other-');
      const fresh = await startController({ dir: other.dir }); // a controller with a shorter history
      cleanup.push(async () => {
        await fresh.stop();
        await other.remove();
      });
      await setRoutes(controller.url, 'old-dest', [allTo('old-dest', 'v1')]);
      const f = await follow({ transport });
      await f.following.ready();
      const held = f.following.revision as number;
      await setRoutes(fresh.url, 'old-dest', [allTo('old-dest', 'v9')]); // revision 1 < held

      f.proxy.upstreamPort = fresh.port; // the source is now talking to the other history
      f.proxy.cutAll();
      await until(() => f.logger.codes().includes('WEFT_WARN_WEFT_REVISION_BEHIND'), 'the older revision to be seen');
      expect(routedTo(f.router, 'old-dest')).toEqual(['version=v1']);
      expect(f.following.revision).toBe(held);
      // The controller answers every resume point above its own at once; the source must not spin on it.
      const before = f.proxy.seen.length;
      await new Promise((r) => setTimeout(r, 1_000));
      expect(f.proxy.seen.length - before).toBeLessThan(10);

      // Writes on the other controller until it passes the revision in force: then it is applied.
      let revision = 1;
      while (revision <= held) {
        await setRoutes(fresh.url, 'old-dest', [allTo('old-dest', revision % 2 === 0 ? 'v8' : 'v9')]);
        revision++;
      }
      await until(() => f.following.revision === revision, 'the newer revision', 2_000);
      expect(routedTo(f.router, 'old-dest')).toEqual([revision % 2 === 1 ? 'version=v8' : 'version=v9']);
    },
  );

  it('keeps the rules in force while the controller is down, and converges after it restarts with the same file', async () => {
    await setRoutes(controller.url, 'lkg-dest', [allTo('lkg-dest', 'v1')]);
    const f = await follow();
    await f.following.ready();
    await controller.stop();
    await until(() => f.following.stale, 'the failure to be reported');
    expect(f.errors.length).toBeGreaterThan(0);
    expect(routedTo(f.router, 'lkg-dest')).toEqual(['version=v1']);

    await controller.start(); // same port, same file: the revision carries on
    await setRoutes(controller.url, 'lkg-dest', [allTo('lkg-dest', 'v2')]);
    await until(() => routedTo(f.router, 'lkg-dest')[0] === 'version=v2', 'the change made after the restart', 5_000);
    expect(f.following.stale).toBe(false);
    expect(f.logger.codes()).not.toContain('WEFT_WARN_WEFT_REVISION_BEHIND');
  });

  it('follows the namespace its token names', async () => {
    await setRoutes(controller.url, 'ns-dest', [allTo('ns-dest', 'v1')], 'team-a');
    await setRoutes(controller.url, 'ns-dest', [allTo('ns-dest', 'v2')], 'team-b');
    const a = await follow({ token: 'team-a' });
    const b = await follow({ token: 'team-b' });
    await Promise.all([a.following.ready(), b.following.ready()]);
    expect(routedTo(a.router, 'ns-dest')).toEqual(['version=v1']);
    expect(routedTo(b.router, 'ns-dest')).toEqual(['version=v2']);
  });

  it('keeps the rules in force when the controller serves rules this client cannot compile', async () => {
    // A controller newer than this client (the real one only stores rules it can compile): a
    // plain server whose answer the test sets, polled.
    let doc: { rules: unknown[]; revision: number } = { rules: [allTo('new-dest', 'v1')], revision: 1 };
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-weft-index': String(doc.revision) });
      res.end(JSON.stringify(doc));
    });
    await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
    cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const logger = new RecordingLogger();
    const source = new WeftRulesSource({
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      transport: 'poll',
      pollIntervalMs: 30,
      logger,
      ...FAST,
    });
    const router = rulesRouter([]);
    const errors: Error[] = [];
    const following = source.follow(router, { onError: (e) => errors.push(e) });
    cleanup.push(async () => {
      following.unsubscribe();
      await source.close();
    });
    await following.ready();
    doc = {
      rules: [{ destination: 'new-dest', route: { backends: [{ tags: ['version=v2'], lb_type: 'quantum' }] } }],
      revision: 2,
    };
    await until(() => errors.length > 0, 'the compile failure to be reported');
    await new Promise((r) => setTimeout(r, 200)); // several more polls of the same revision
    expect(routedTo(router, 'new-dest')).toEqual(['version=v1']);
    expect(following.revision).toBe(1);
    expect(errors).toHaveLength(1); // reported once, not at every poll
    expect(logger.messages('WEFT_WARN_WEFT_BAD_RULES').join()).toMatch(
      /revision 2 of the rules does not compile.*lb_type/,
    );
    doc = { rules: [allTo('new-dest', 'v3')], revision: 3 };
    await until(() => following.revision === 3, 'the next good revision');
    expect(routedTo(router, 'new-dest')).toEqual(['version=v3']);
  });

  it('ready() rejects with the last failure when the controller cannot be reached', async () => {
    const source = new WeftRulesSource({ url: 'http://127.0.0.1:9', ...FAST, logger: new RecordingLogger() });
    const following = source.follow(rulesRouter([]));
    cleanup.push(async () => {
      following.unsubscribe();
      await source.close();
    });
    await expect(following.ready(500)).rejects.toThrow(/no rules after 500 ms: GET \/v1\/rules failed: .*ECONNREFUSED/);
    expect(following.stale).toBe(true);
  });
});
