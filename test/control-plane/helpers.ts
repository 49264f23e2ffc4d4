import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AdapterLogger, AdapterWarning } from '@weft/adapters/weft';
import { instanceId, type RuleInput } from '@weft/core';
import { request } from 'undici';

/** Collects the warnings an adapter logs. */
export class RecordingLogger implements AdapterLogger {
  readonly warnings: AdapterWarning[] = [];
  warn(w: AdapterWarning): void {
    this.warnings.push(w);
  }
  codes(): string[] {
    return this.warnings.map((w) => w.code);
  }
  /** The messages of the warnings with `code`. */
  messages(code: AdapterWarning['code']): string[] {
    return this.warnings.filter((w) => w.code === code).map((w) => w.message);
  }
}

/** A fresh temporary directory, and its removal. */
export async function tempDir(prefix: string): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Polls `check` every 20 ms until it returns true; throws `what` after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A JSON call straight to a server (what an operator or another service does), answering status and body. */
export async function call(
  url: string,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const res = await request(`${url}${path}`, {
    method,
    headers,
    // A fresh connection per call: tests restart servers, and a pooled socket would be stale.
    reset: true,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.body.text();
  return { status: res.statusCode, body: text === '' ? undefined : JSON.parse(text) };
}

/** Registers `service` at `host:port` directly with the registry (TTL 10 min); resolves to its id. */
export async function register(
  registryUrl: string,
  service: string,
  value: string,
  tags: readonly string[] = [],
  token?: string,
): Promise<string> {
  const res = await call(
    registryUrl,
    'POST',
    '/api/v1/instances',
    { service_name: service, endpoint: { type: 'http', value }, ttl: 600, tags },
    token,
  );
  if (res.status !== 201)
    throw new Error(`register ${service} ${value}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  return (res.body as { id: string }).id;
}

/** Removes the instance of `service` at `value` directly from the registry. */
export async function deregister(registryUrl: string, service: string, value: string, token?: string): Promise<void> {
  const res = await call(
    registryUrl,
    'DELETE',
    `/api/v1/instances/${instanceId(service, 'http', value)}`,
    undefined,
    token,
  );
  if (res.status >= 300 && res.status !== 410) throw new Error(`deregister ${service} ${value}: HTTP ${res.status}`);
}

/** Every instance of the registry's namespace, any status (what `GET /api/v1/instances?status=ALL` lists). */
export async function listInstances(
  registryUrl: string,
  token?: string,
): Promise<Array<{ id: string; service_name: string; status: string; endpoint: { value: string } }>> {
  const res = await call(registryUrl, 'GET', '/api/v1/instances?status=ALL', undefined, token);
  return (
    res.body as { instances: Array<{ id: string; service_name: string; status: string; endpoint: { value: string } }> }
  ).instances;
}

/** Replaces the route rules of `destination` on the controller (Amalgam8's `PUT /v1/rules/routes/{dest}`, a8ctl's route-set). */
export async function setRoutes(
  controllerUrl: string,
  destination: string,
  rules: RuleInput[],
  token?: string,
): Promise<void> {
  const res = await call(controllerUrl, 'PUT', `/v1/rules/routes/${destination}`, { rules }, token);
  if (res.status !== 200 && res.status !== 201)
    throw new Error(`route-set ${destination}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
}

/** A route rule sending every request for `destination` to the instances tagged `version=<version>`. */
export function allTo(destination: string, version: string): RuleInput {
  return { destination, priority: 1, route: { backends: [{ tags: [`version=${version}`] }] } };
}

/** Test timings: fast backoff so recovery takes well under a second once a server is back. */
export const FAST = { backoff: { baseMs: 50, maxMs: 500 }, requestTimeoutMs: 3_000 } as const;
