import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { sidecarConfigSchema } from '../config/sidecar-settings.js';
import { openAccessLogStream, streamsAccessLog, telemetryUrls } from './sidecar-telemetry.js';

const config = (input: Record<string, unknown>) =>
  z.parse(sidecarConfigSchema('sidecar'), { register: false, ...input });

describe('the sidecar’s access-log streaming settings', () => {
  it('streams by default to the control plane it follows, and not otherwise', () => {
    const weft = config({ registry: { url: 'http://cp-0:8080,http://cp-1:8080' } });
    expect(streamsAccessLog(weft)).toBe(true);
    expect(telemetryUrls(weft)).toEqual(['http://cp-0:8080', 'http://cp-1:8080']);
    const consul = config({
      registry: { type: 'consul', url: 'http://127.0.0.1:8500' },
      controller: { url: 'http://ctl:8080' },
    });
    expect(streamsAccessLog(consul)).toBe(true);
    expect(telemetryUrls(consul)).toEqual(['http://ctl:8080']);
    expect(streamsAccessLog(config({ registry: { url: 'http://cp:8080' }, telemetry: { stream: false } }))).toBe(false);
    // No proxy, no records.
    expect(streamsAccessLog(config({ registry: { url: 'http://cp:8080' }, proxy: false }))).toBe(false);
    const elsewhere = config({ registry: { url: 'http://cp:8080' }, telemetry: { url: 'http://telemetry:8080' } });
    expect(telemetryUrls(elsewhere)).toEqual(['http://telemetry:8080']);
  });

  it('refuses to stream with nowhere to stream to, naming telemetry.url', () => {
    const result = z.safeParse(sidecarConfigSchema('sidecar'), {
      register: false,
      proxy: false,
      registry: { type: 'consul', url: 'http://127.0.0.1:8500' },
      telemetry: { stream: true },
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      [
        'telemetry.url',
        'is required to stream access-log records (no controller.url or weft registry.url to default to)',
      ],
    ]);
  });

  it('opens the stream with the queue and interval set', async () => {
    const stream = openAccessLogStream(
      config({ registry: { url: 'http://127.0.0.1:1' }, telemetry: { queue: 2, interval: '1h' } }),
      () => {},
    );
    expect(stream).toBeDefined();
    for (let i = 0; i < 5; i++) stream?.write({ i });
    expect(stream?.stats()).toMatchObject({ queued: 2, dropped: { queue_full: 3 } });
    await stream?.close();
  });
});
