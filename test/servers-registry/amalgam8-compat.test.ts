/**
 * Replays what Amalgam8's own registry server answered (recorded from it: ./amalgam8/README.md)
 * against Weft's, and asks for the same bytes.
 *
 * - Success bodies must be identical, once the two things no replay can reproduce are masked: the
 *   server's address in links, and `last_heartbeat` times (checked for Go's format instead).
 *   Lists Amalgam8 built from Go maps (`compare: unordered`) are compared with their elements in
 *   id order; the key order inside every element still counts.
 * - Error bodies must carry Amalgam8's `Error` text unchanged; Weft adds `code`, `status`,
 *   `message` and `issues`, and nothing else.
 * - Status, `Content-Type` and `Location` must match; every answer carries a `Request_id` in
 *   Amalgam8's form.
 * - Exchanges marked `weft` are documented deviations: the test asks for Weft's answer instead.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistryServer, type RegistryServer } from '../../packages/servers/src/index.js';
import { json, listen, send } from './helpers.js';

interface Exchange {
  name: string;
  source: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  compare?: 'unordered';
  weft?: { status: number; field: string; reason: string };
  response: { status: number; headers: Record<string, string>; body: string };
}

const fixture = JSON.parse(readFileSync(join(import.meta.dirname, 'amalgam8', 'exchanges.json'), 'utf8')) as {
  recorded: string;
  exchanges: Exchange[];
};

const GO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;
const HEARTBEAT = /"last_heartbeat":"([^"]*)"/g;
const ORIGIN = /https?:\/\/127\.0\.0\.1:\d+/g;

/** Masks what differs between any two runs: the server's address and heartbeat times (after checking their format). */
function mask(text: string): string {
  return text
    .replace(ORIGIN, (origin) => `${origin.startsWith('https') ? 'https' : 'http'}://HOST`)
    .replace(HEARTBEAT, (_all, time: string) => {
      expect(time).toMatch(GO_TIME);
      return '"last_heartbeat":"TIME"';
    });
}

/** Puts list elements in id (or name) order, keeping every key order. */
function sorted(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(sorted);
    const key = (v: unknown): string =>
      typeof v === 'string' ? v : typeof v === 'object' && v !== null ? String((v as { id?: unknown }).id) : '';
    return items.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  }
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, sorted(v)]));
  return value;
}

describe(`the registry answers as Amalgam8's did (${fixture.recorded})`, () => {
  let server: RegistryServer;
  let base: string;
  beforeAll(async () => {
    // The recorded server: default auth (one namespace), TTL 30 s in [10 s, 10 min], capacity 8.
    server = await createRegistryServer({ capacity: 8 });
    base = await listen(server);
  });
  afterAll(async () => {
    await server.close();
  });

  it('replays every recorded exchange, in order', async () => {
    expect(fixture.exchanges.length).toBeGreaterThan(60);
    for (const x of fixture.exchanges) {
      const answer = await send(base, x.path, {
        method: x.method,
        ...(x.headers === undefined ? {} : { headers: x.headers }),
        ...(x.body === undefined ? {} : { body: x.body }),
      });
      const recorded = x.response;
      const where = `${x.name} (${x.method} ${x.path}; ${x.source})`;
      expect(answer.headers.request_id, where).toMatch(/^[A-Za-z]{10}_\d+_\d+$/);
      if (x.weft !== undefined) {
        expect(answer.status, `${where}: ${x.weft.reason}`).toBe(x.weft.status);
        expect(
          json<{ issues: { path: string }[] }>(answer).issues.map((i) => i.path),
          where,
        ).toContain(x.weft.field);
        continue;
      }
      expect(answer.status, where).toBe(recorded.status);
      expect(answer.headers['content-type'], where).toBe(recorded.headers['Content-Type']);
      expect(answer.headers.location === undefined ? undefined : mask(answer.headers.location), where).toBe(
        recorded.headers.Location === undefined ? undefined : mask(recorded.headers.Location),
      );
      if (recorded.status >= 400 && recorded.body !== '') {
        const body = json(answer);
        expect(body.Error, where).toBe(json(recorded).Error);
        expect(
          Object.keys(body).filter((k) => !['Error', 'code', 'status', 'message', 'issues'].includes(k)),
          where,
        ).toEqual([]);
        expect(body.status, where).toBe(recorded.status);
        expect(body.code, where).toMatch(/^WEFT_ERR_/);
      } else if (x.compare === 'unordered') {
        expect(JSON.stringify(sorted(JSON.parse(mask(answer.body)))), where).toBe(
          JSON.stringify(sorted(JSON.parse(mask(recorded.body)))),
        );
      } else expect(mask(answer.body), where).toBe(mask(recorded.body));
    }
  });
});
