/**
 * `tracing.otlpEndpoint` loads the OpenTelemetry packages, optional peers kept out of the
 * single-file bundle: run where they are not installed, the sidecar refuses to start with the
 * coded missing-peer error naming what to install (and without the setting it runs: see
 * test/sidecar-agent/bundle.test.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleCli } from '../../packages/servers/bundle.config.js';
import { runWeft } from '../servers-cli/weft-process.js';

// A directory of its own under the system temp dir: nothing there resolves a package.
const container = mkdtempSync(join(tmpdir(), 'weft-tracing-peers-'));
const bundle = join(container, 'weft.bundle.mjs');

beforeAll(async () => {
  await bundleCli(bundle);
}, 60_000);

afterAll(() => rmSync(container, { recursive: true, force: true }));

describe('weft sidecar --tracing-otlp-endpoint without the OpenTelemetry packages', () => {
  it('exits 1 naming the package to install and the setting that needs it', async () => {
    const run = await runWeft(
      [
        'sidecar',
        '--no-register',
        '--proxy-port',
        '0',
        '--admin-port',
        '0',
        // Nothing listens there: the refusal must come before any traffic.
        '--registry-url',
        'http://127.0.0.1:1',
        '--tracing-otlp-endpoint',
        'http://127.0.0.1:1/v1/traces',
      ],
      { bin: bundle, cwd: container, env: { WEFT_LOG_LEVEL: 'warn' } },
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /tracing\.otlpEndpoint needs the package "@opentelemetry\/[a-z-]+", an optional peer dependency of @weft\/servers/,
    );
    expect(run.stderr).toContain('npm install @opentelemetry/api@');
  }, 30_000);

  it('refuses an endpoint that is not an http(s) URL, naming the setting', async () => {
    const run = await runWeft(
      ['sidecar', '--no-register', '--registry-url', 'http://127.0.0.1:1', '--tracing-otlp-endpoint', 'collector:4318'],
      {
        bin: bundle,
        cwd: container,
      },
    );
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/tracing\.otlpEndpoint.*must be an http:\/\/ or https:\/\/ URL/);
  }, 30_000);
});
