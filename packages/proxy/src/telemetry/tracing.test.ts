import { isWeftError } from '@weft/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type MeshTracer, MissingPeerDependencyError, type OtelApi } from './otel.js';
import { MeshTracing } from './tracing.js';

const notInstalled = (): OtelApi => {
  const cause = Object.assign(new Error("Cannot find module '@opentelemetry/api'"), { code: 'MODULE_NOT_FOUND' });
  throw new MissingPeerDependencyError(cause);
};
const tracer: MeshTracer = {
  startSpan: () => {
    throw new Error('not used');
  },
};
const OTEL_GLOBAL = Symbol.for('opentelemetry.js.api.1');

describe('MeshTracing without @opentelemetry/api', () => {
  afterEach(() => {
    delete (globalThis as Record<symbol, unknown>)[OTEL_GLOBAL];
    vi.restoreAllMocks();
  });

  it('refuses an explicit tracer at once, naming the package to install', () => {
    let thrown: unknown;
    try {
      new MeshTracing(tracer, notInstalled);
    } catch (err) {
      thrown = err;
    }
    expect(isWeftError(thrown, 'WEFT_ERR_MISSING_PEER_DEPENDENCY')).toBe(true);
    expect((thrown as Error).message).toContain('npm install @opentelemetry/api@"^1.10.0"');
    expect((thrown as MissingPeerDependencyError).packageName).toBe('@opentelemetry/api');
  });

  it('by default traces nothing, fails no call, and tries to load the API only once', () => {
    const load = vi.fn(notInstalled);
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const tracing = new MeshTracing(undefined, load);
    expect(tracing.enabled(0)).toBe(false);
    expect(tracing.enabled(5_000)).toBe(false);
    expect(tracing.hasActiveSpan()).toBe(false);
    expect(load).toHaveBeenCalledTimes(1);
    expect(warn).not.toHaveBeenCalled();
  });

  it('warns once when the app registered a tracer provider through a copy of the API it cannot load', () => {
    (globalThis as Record<symbol, unknown>)[OTEL_GLOBAL] = { version: '1.10.0', trace: {} };
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const tracing = new MeshTracing(undefined, notInstalled);
    expect(tracing.enabled(0)).toBe(false);
    expect(tracing.enabled(5_000)).toBe(false);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[0]).toMatch(/records no spans: Tracing needs the package "@opentelemetry\/api"/);
  });

  it('never loads the API when tracing is off', () => {
    const load = vi.fn(notInstalled);
    const tracing = new MeshTracing(false, load);
    expect(tracing.enabled(0)).toBe(false);
    expect(load).not.toHaveBeenCalled();
  });
});
