import { VirtualClock } from '@weft/core';
import { describe, expect, it } from 'vitest';
import type { AdapterWarning } from './log.js';
import { WatchHealth } from './watch-health.js';

function setup() {
  const clock = new VirtualClock(1_000);
  const warnings: AdapterWarning[] = [];
  const debugs: Array<Record<string, unknown> | undefined> = [];
  const errors: Error[] = [];
  let recoveries = 0;
  const health = new WatchHealth({
    source: 'test:src',
    object: '/prefix',
    clock,
    logger: { warn: (w) => warnings.push(w), debug: (_m, d) => debugs.push(d) },
    onError: (e) => errors.push(e),
    onRecover: () => recoveries++,
  });
  return { clock, warnings, debugs, errors, health, recoveries: () => recoveries };
}

describe('WatchHealth', () => {
  it('warns once per failure streak with the cause, reports every failure, and logs the recovery', () => {
    const t = setup();
    const cause = new Error('connection refused');
    t.health.failed(cause);
    t.clock.advance(300);
    t.health.failed('second');
    t.clock.advance(700);
    t.health.failed(new Error('third'));
    expect(t.warnings).toHaveLength(1);
    expect(t.warnings[0]).toMatchObject({
      code: 'WEFT_WARN_WATCH_RESTART',
      source: 'test:src',
      object: '/prefix',
      cause,
    });
    expect(t.warnings[0]?.message).toContain('connection refused');
    expect(t.errors.map((e) => e.message)).toEqual(['connection refused', 'second', 'third']);
    expect(t.debugs.filter((d) => d?.event === 'watch-failed').map((d) => d?.attempt)).toEqual([2, 3]);
    expect(t.health.failing).toBe(true);
    expect(t.health.failingSince).toBe(1_000);

    expect(t.health.recovered()).toBe(true);
    expect(t.recoveries()).toBe(1);
    expect(t.debugs.at(-1)).toEqual({ event: 'watch-recovered', object: '/prefix', failures: 3, downMs: 1_000 });
    expect(t.health.recovered()).toBe(false); // nothing to recover from: silent
    expect(t.recoveries()).toBe(1);

    t.health.failed(new Error('again'));
    expect(t.warnings).toHaveLength(2); // a new streak is a new warning
  });

  it('a streak over several parts ends when the last failing part recovers', () => {
    const t = setup();
    t.health.failed(new Error('catalog down'), { part: 'catalog' });
    t.health.failed(new Error('web down'), { part: 'service web' });
    expect(t.warnings).toHaveLength(1);
    expect(t.health.recovered('service api')).toBe(false); // never failed
    expect(t.health.recovered('catalog')).toBe(false);
    expect(t.recoveries()).toBe(0);
    expect(t.health.recovered('service web')).toBe(true);
    expect(t.recoveries()).toBe(1);
  });

  it('an unreported interruption warns but tells the consumer nothing unless a reported failure follows', () => {
    const t = setup();
    t.health.failed(new Error('stream broke'), { report: false });
    expect(t.warnings).toHaveLength(1);
    expect(t.errors).toHaveLength(0);
    t.health.recovered();
    expect(t.recoveries()).toBe(0); // never told of a failure, never told of a recovery
    t.health.failed(new Error('stream broke'), { report: false });
    t.health.failed(new Error('reconnect refused'));
    expect(t.warnings).toHaveLength(2);
    expect(t.errors).toHaveLength(1);
    t.health.recovered();
    expect(t.recoveries()).toBe(1);
  });

  it('a consumer callback that throws does not break the watch', () => {
    const health = new WatchHealth({
      source: 's',
      object: 'o',
      clock: new VirtualClock(),
      logger: { warn: () => {} },
      onError: () => {
        throw new Error('consumer bug');
      },
      onRecover: () => {
        throw new Error('consumer bug');
      },
    });
    expect(() => health.failed(new Error('x'))).not.toThrow();
    expect(() => health.recovered()).not.toThrow();
  });
});
