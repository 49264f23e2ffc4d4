import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { onAbort } from './deadline.js';
import type { HealthCheckSpec } from './types.js';

type HttpSpec = Extract<HealthCheckSpec, { type: 'http' | 'https' }>;

/**
 * One HTTP(S) request; resolves when the status is the expected one (any 2xx/3xx by default).
 * node:http rather than fetch: `insecure` is a per-request `rejectUnauthorized`, with no second
 * copy of undici to keep in step, and `agent: false` gives each probe its own connection, so a
 * probe never rides on a socket an earlier (possibly broken) probe left open.
 */
export function httpProbe(spec: HttpSpec, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = (spec.type === 'https' ? httpsRequest : httpRequest)(
      spec.url,
      {
        method: spec.method ?? 'GET',
        agent: false,
        headers: { 'user-agent': 'weft-sidecar-health' },
        ...(spec.type === 'https' && spec.insecure ? { rejectUnauthorized: false } : {}),
      },
      (response) => {
        const status = response.statusCode ?? 0;
        // The status is the verdict; the body is not read, so a streaming endpoint cannot hold the probe.
        response.destroy();
        const ok = spec.expectStatus === undefined ? status >= 200 && status < 400 : status === spec.expectStatus;
        if (ok) resolve();
        else
          reject(
            new Error(`HTTP ${status}${spec.expectStatus === undefined ? '' : ` (expected ${spec.expectStatus})`}`),
          );
      },
    );
    const unsubscribe = onAbort(signal, (reason) => request.destroy(reason));
    request.on('error', (error) => {
      unsubscribe();
      reject(error);
    });
    request.on('close', unsubscribe);
    request.end();
  });
}
