import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface HttpOptions {
  method?: string;
  headers?: Record<string, string>;
  /** A string is sent as is; anything else is JSON-encoded. */
  body?: unknown;
  /** Skip TLS verification (the test kube-apiserver uses a self-signed cert). */
  insecure?: boolean;
  timeoutMs?: number;
}

/**
 * Minimal HTTP(S) client for readiness probes and admin calls (node:http, so
 * self-signed certificates can be accepted, which fetch() cannot do without
 * extra dependencies). Never throws on HTTP status codes.
 */
export function http(url: string, options: HttpOptions = {}): Promise<HttpResponse> {
  const u = new URL(url);
  const headers: Record<string, string> = { ...options.headers };
  let payload: string | undefined;
  if (options.body !== undefined) {
    payload = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      u,
      {
        method: options.method ?? (payload === undefined ? 'GET' : 'POST'),
        headers,
        timeout: options.timeoutMs ?? 5_000,
        rejectUnauthorized: options.insecure !== true,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${options.method ?? 'GET'} ${url} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}
