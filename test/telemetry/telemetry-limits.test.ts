/**
 * The telemetry settings on a real `weft controller` process: a ring of 5 keeps the last 5
 * records, said in the read and in /metrics; `WEFT_TELEMETRY_ENABLED=false` turns the stream off
 * (404, which the sidecars' stream takes as a server without the route).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { listeningUrl, startWeft, type WeftProcess } from '../servers-cli/weft-process.js';

const started: WeftProcess[] = [];

async function controller(args: string[], env: Record<string, string> = {}): Promise<string> {
  const p = startWeft(['controller', '--port', '0', '--log-level', 'warn', ...args], { env });
  started.push(p);
  return listeningUrl(p);
}

afterAll(async () => {
  for (const p of started) if (p.child.exitCode === null) p.child.kill('SIGTERM');
  await Promise.all(started.map((p) => p.exited));
});

const record = (i: number) => ({
  src: 'front:version=v1',
  dst: 'reviews:version=v2',
  status: 200,
  request_time: 0.003,
  timestamp_in_ms: Date.now(),
  request_id: `ring-${i}`,
  upstream_host: '127.0.0.1:9080',
});

const postRecords = (url: string, records: unknown[]) =>
  fetch(`${url}/v1/telemetry/access-log`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ records }),
  });

describe('weft controller --telemetry-ring-size 5', () => {
  it('keeps the last 5 records of each namespace, the older pushed out and counted', async () => {
    const url = await controller(['--telemetry-ring-size', '5']);
    // Two batches: the ring is bounded across batches, not per batch.
    expect((await postRecords(url, [1, 2, 3, 4, 5, 6].map(record))).status).toBe(202);
    expect((await postRecords(url, [7, 8].map(record))).status).toBe(202);
    const read = (await (await fetch(`${url}/v1/telemetry/access-log`)).json()) as {
      records: { request_id: string }[];
      index: number;
      capacity: number;
      size: number;
      evicted: number;
    };
    expect(read.records.map((r) => r.request_id)).toEqual(['ring-4', 'ring-5', 'ring-6', 'ring-7', 'ring-8']);
    expect(read).toMatchObject({ index: 8, capacity: 5, size: 5, evicted: 3 });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('weft_telemetry_records{namespace="default"} 5');
    expect(metrics).toContain('weft_telemetry_records_evicted_total{namespace="default"} 3');
    expect(metrics).toContain('weft_telemetry_records_ingested_total{namespace="default"} 8');
  });

  it('takes no records with WEFT_TELEMETRY_ENABLED=false: 404 WEFT_ERR_NOT_FOUND, naming the setting', async () => {
    const url = await controller([], { WEFT_TELEMETRY_ENABLED: 'false' });
    const res = await postRecords(url, [record(1)]);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({
      code: 'WEFT_ERR_NOT_FOUND',
      error: expect.stringContaining('telemetry.enabled: false'),
    });
    expect((await fetch(`${url}/v1/topology`)).status).toBe(404);
  });
});
