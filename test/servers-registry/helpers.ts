import type { IncomingHttpHeaders } from 'node:http';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { openSse, type SseStream } from '../servers-controller/sse-client.js';

/** A response as the tests look at it: status, headers, and the body's exact text. */
export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** What a test sends: the body is sent byte for byte as given (a string), or JSON-encoded. */
export interface Ask {
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
  timeoutMs?: number;
}

/**
 * One request over a real socket, with exactly the headers given (plus Host and, for a body or a
 * bodyless write, Content-Length — what Amalgam8's Go client sent). Never throws on a status.
 */
export function send(base: string, path: string, ask: Ask = {}): Promise<Answer> {
  const method = ask.method ?? (ask.body === undefined ? 'GET' : 'POST');
  const headers: Record<string, string> = { ...ask.headers };
  let payload: Buffer | undefined;
  if (ask.body !== undefined) {
    payload = Buffer.from(typeof ask.body === 'string' ? ask.body : JSON.stringify(ask.body));
    if (typeof ask.body !== 'string') headers['content-type'] ??= 'application/json';
  }
  if (payload !== undefined || !['GET', 'HEAD', 'OPTIONS'].includes(method))
    headers['content-length'] = String(payload?.length ?? 0);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${base}${path}`,
      { method, headers, agent: false, timeout: ask.timeoutMs ?? 5000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Listens on an ephemeral loopback port and returns the base URL. */
export async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

/** The parsed JSON body of an answer (fails the test with the text when it is not JSON). */
export function json<T = Record<string, unknown>>(answer: Answer): T {
  try {
    return JSON.parse(answer.body) as T;
  } catch {
    throw new Error(`not JSON (status ${answer.status}): ${answer.body}`);
  }
}

/** Opens `GET path` with `Accept: text/event-stream` over a real socket. */
export function openEvents(base: string, path: string, headers: Record<string, string> = {}): Promise<SseStream> {
  return openSse(`${base}${path}`, headers);
}
