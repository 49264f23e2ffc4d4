import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/index.js';
import { CircuitBreaker, CircuitRejection, type CircuitState } from './circuit-breaker.js';
import { CircuitOpenError, isCircuitOpenError, TimeoutError } from './errors.js';
import { Outcome } from './outcome.js';

function settle<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/** Runs one admitted call to completion with `outcome`; returns false if the breaker refused. */
function call(b: CircuitBreaker, outcome: number): boolean {
  const t = b.tryAcquire();
  if (t < 0) return false;
  b.release(t, outcome);
  return true;
}

function trip(b: CircuitBreaker, failures = 5): void {
  for (let i = 0; i < failures; i++) call(b, 503);
}

function record(b: CircuitBreaker): string[] {
  const log: string[] = [];
  b.onStateChange((e) => log.push(`${e.from}->${e.to}`));
  b.onBreak((e) => log.push(`break:${e.reason}:${e.openDurationMs}`));
  b.onReset(() => log.push('reset'));
  b.onHalfOpen(() => log.push('half-open'));
  return log;
}

describe('CircuitBreaker — consecutive failures', () => {
  it('opens after the threshold, refuses while open, then probes after the open duration', () => {
    const clock = new VirtualClock();
    const b = new CircuitBreaker({ clock, openDurationMs: 30_000 });
    const log = record(b);
    for (let i = 0; i < 4; i++) call(b, 500);
    call(b, 404); // a 4xx is the client's fault: it breaks the run
    for (let i = 0; i < 4; i++) call(b, Outcome.Reset);
    call(b, Outcome.Cancelled); // neither success nor failure
    expect(b.state).toBe('closed');
    call(b, 503);
    expect(b.state).toBe('open');
    expect(log).toEqual(['closed->open', 'break:consecutive-failures:30000']);
    clock.advance(10_000);
    const refused = b.tryAcquire();
    expect(refused).toBe(CircuitRejection.Open);
    const err = b.rejection(refused);
    expect(isCircuitOpenError(err)).toBe(true);
    expect([err.code, err.status, err.state, err.retryAfterMs]).toEqual(['WEFT_ERR_CIRCUIT_OPEN', 503, 'open', 20_000]);
    clock.advance(20_000);
    expect(b.state).toBe('half-open');
    expect(log.slice(2)).toEqual(['open->half-open', 'half-open']);
  });

  it('half-open admits at most N probes at once, not all traffic', () => {
    const clock = new VirtualClock();
    const b = new CircuitBreaker({ clock, openDurationMs: 1_000, halfOpenMaxProbes: 2 });
    trip(b);
    clock.advance(1_000);
    const p1 = b.tryAcquire();
    const p2 = b.tryAcquire();
    expect(p1 >= 0 && p2 >= 0).toBe(true);
    for (let i = 0; i < 100; i++) expect(b.tryAcquire()).toBe(CircuitRejection.HalfOpenFull);
    expect(b.rejection(CircuitRejection.HalfOpenFull).state).toBe('half-open');
    expect(b.probesInFlight).toBe(2);
    b.release(p1, 200);
    expect(b.tryAcquire()).toBeGreaterThanOrEqual(0); // a freed slot admits exactly one more
    expect(b.tryAcquire()).toBe(CircuitRejection.HalfOpenFull);
  });

  it('closes only after M consecutive probe successes', () => {
    const clock = new VirtualClock();
    const b = new CircuitBreaker({ clock, openDurationMs: 1_000, halfOpenMaxProbes: 1, halfOpenSuccesses: 3 });
    const log = record(b);
    trip(b);
    clock.advance(1_000);
    expect(call(b, 200)).toBe(true);
    expect(call(b, 200)).toBe(true);
    expect(b.state).toBe('half-open');
    expect(call(b, 200)).toBe(true);
    expect(b.state).toBe('closed');
    expect(log.slice(-2)).toEqual(['half-open->closed', 'reset']);
    // History was reset on closing: it takes a full run of failures to open again.
    trip(b, 4);
    expect(b.state).toBe('closed');
  });

  it('re-opens on a failed probe, with a growing open duration that resets once closed', () => {
    const clock = new VirtualClock();
    const b = new CircuitBreaker({
      clock,
      openDurationMs: 1_000,
      openBackoff: { multiplier: 2, maxMs: 3_000 },
      halfOpenSuccesses: 1,
    });
    const durations: number[] = [];
    b.onBreak((e) => durations.push(e.openDurationMs));
    trip(b);
    for (let i = 0; i < 3; i++) {
      clock.advance(durations.at(-1) ?? 0);
      expect(b.state).toBe('half-open');
      expect(call(b, 502)).toBe(true);
      expect(b.state).toBe('open');
    }
    expect(durations).toEqual([1_000, 2_000, 3_000, 3_000]);
    clock.advance(2_999);
    expect(b.state).toBe('open');
    clock.advance(1);
    call(b, 200);
    expect(b.state).toBe('closed');
    trip(b);
    expect(durations.at(-1)).toBe(1_000);
  });

  it('never gets stuck behind a probe that never settles: the probe times out and the circuit re-opens', () => {
    const clock = new VirtualClock();
    const b = new CircuitBreaker({ clock, openDurationMs: 1_000, halfOpenMaxProbes: 1, probeTimeoutMs: 5_000 });
    const log = record(b);
    trip(b);
    clock.advance(1_000);
    const hung = b.tryAcquire(); // never released
    const probeSignal = b.probeSignal(hung);
    expect(b.tryAcquire()).toBe(CircuitRejection.HalfOpenFull);
    clock.advance(5_000);
    expect(b.state).toBe('open');
    expect(log).toContain('break:probe-timeout:1000');
    expect(probeSignal?.reason).toBeInstanceOf(TimeoutError);
    clock.advance(1_000);
    expect(b.state).toBe('half-open');
    b.release(hung, 200); // the hung call finally answers: stale, ignored
    expect(b.probesInFlight).toBe(0);
    for (let i = 0; i < 3; i++) call(b, 200);
    expect(b.state).toBe('closed');
  });

  it('frees the slot of a probe whose caller aborts, without counting it', async () => {
    const clock = new VirtualClock();
    const b = new CircuitBreaker({ clock, openDurationMs: 1_000, halfOpenMaxProbes: 1, halfOpenSuccesses: 1 });
    trip(b);
    clock.advance(1_000);
    const ac = new AbortController();
    let probeSignal: AbortSignal | undefined;
    const probe = settle(
      b.execute(({ signal }) => {
        probeSignal = signal;
        return new Promise<never>(() => undefined); // ignores its signal
      }, ac.signal),
    );
    await expect(b.execute(() => 'x')).rejects.toBeInstanceOf(CircuitOpenError);
    ac.abort(new Error('client went away'));
    expect(await probe).toEqual({ ok: false, error: new Error('client went away') });
    expect(probeSignal?.aborted).toBe(true);
    expect(b.state).toBe('half-open');
    await expect(b.execute(() => 'ok')).resolves.toBe('ok');
    expect(b.state).toBe('closed');
  });

  it('execute: a probe timeout aborts the probe work and re-opens', async () => {
    const clock = new VirtualClock();
    const b = new CircuitBreaker({ clock, openDurationMs: 1_000, probeTimeoutMs: 200 });
    trip(b);
    clock.advance(1_000);
    const probe = settle(b.execute(({ signal }) => clock.sleep(10_000, signal)));
    await clock.advanceAsync(200);
    const out = (await probe) as { ok: false; error: TimeoutError };
    expect(out.error).toBeInstanceOf(TimeoutError);
    expect(out.error.elapsedMs).toBe(200);
    expect(b.state).toBe('open');
  });

  it('ignores outcomes of calls admitted before the last state change', () => {
    const clock = new VirtualClock();
    const b = new CircuitBreaker({ clock, openDurationMs: 1_000, halfOpenMaxProbes: 1, halfOpenSuccesses: 1 });
    const early = b.tryAcquire(); // a slow call from before the outage
    trip(b);
    clock.advance(1_000);
    b.release(early, 200);
    expect(b.state).toBe('half-open');
    const probe = b.tryAcquire();
    b.release(probe, 200);
    expect(b.state).toBe('closed');
    const old = b.tryAcquire();
    trip(b);
    clock.advance(1_000);
    call(b, 200);
    b.release(old, 503); // a failure from the previous closed period cannot re-open the new one
    expect(b.state).toBe('closed');
  });

  it('can be isolated by hand until every handle is released', () => {
    const clock = new VirtualClock();
    const b = new CircuitBreaker({ clock });
    const log = record(b);
    const a = b.isolate();
    const c = b.isolate();
    expect(b.state).toBe('isolated');
    expect(b.rejection(b.tryAcquire()).state).toBe('isolated');
    trip(b);
    a.dispose();
    a.dispose();
    expect(b.state).toBe('isolated');
    c.dispose();
    expect(b.state).toBe('closed');
    expect(log).toEqual(['closed->isolated', 'break:isolated:0', 'isolated->closed', 'reset']);
  });

  it('execute classifies results and errors, and treats a caller abort as neutral', async () => {
    const clock = new VirtualClock();
    const b = new CircuitBreaker({ clock, trip: { kind: 'consecutive', threshold: 2 } });
    await expect(b.execute(() => ({ status: 503 }))).resolves.toEqual({ status: 503 });
    const ac = new AbortController();
    const aborted = b.execute(({ signal }) => clock.sleep(100, signal), ac.signal);
    ac.abort();
    await expect(aborted).rejects.toThrow();
    expect(b.state).toBe('closed');
    await expect(
      b.execute(() => {
        throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
      }),
    ).rejects.toThrow('refused');
    expect(b.state).toBe('open');
  });
});

describe('CircuitBreaker — failure rate', () => {
  it('opens on the failure share once the minimum throughput is reached, over a sliding window', () => {
    const clock = new VirtualClock();
    const b = new CircuitBreaker({
      clock,
      trip: { kind: 'failure-rate', threshold: 0.5, minimumThroughput: 10, windowMs: 10_000, buckets: 10 },
    });
    for (let i = 0; i < 4; i++) call(b, 500);
    expect(b.state).toBe('closed'); // 4/4 failed, but too few calls to judge
    for (let i = 0; i < 5; i++) call(b, 200);
    call(b, 500); // 5/10
    expect(b.state).toBe('open');

    const slow = new CircuitBreaker({
      clock,
      trip: { kind: 'failure-rate', threshold: 0.5, minimumThroughput: 10, windowMs: 10_000, buckets: 10 },
    });
    for (let i = 0; i < 9; i++) call(slow, 500);
    clock.advance(10_000); // those failures have left the window
    for (let i = 0; i < 9; i++) call(slow, 200);
    call(slow, 500);
    expect(slow.state).toBe('closed');
  });

  it('validates options', () => {
    expect(() => new CircuitBreaker({ openDurationMs: 0, halfOpenMaxProbes: 0, halfOpenSuccesses: 1.5 })).toThrow(
      /openDurationMs.*halfOpenMaxProbes.*halfOpenSuccesses/,
    );
    expect(() => new CircuitBreaker({ trip: { kind: 'failure-rate', threshold: 2 } })).toThrow(/threshold: must be in/);
  });
});

describe('CircuitBreaker — invariants under random traffic', () => {
  type Op = { kind: 'acquire' } | { kind: 'release'; pick: number; outcome: number } | { kind: 'advance'; ms: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.constant({ kind: 'acquire' as const }),
    fc.record({
      kind: fc.constant('release' as const),
      pick: fc.nat(),
      outcome: fc.constantFrom(200, 404, 500, 503, Outcome.Cancelled, Outcome.Timeout),
    }),
    fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 3_000 }) }),
  );

  it('never exceeds the probe limit, never stays open, and recovers once the upstream is healthy', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), fc.integer({ min: 1, max: 4 }), (ops, maxProbes) => {
        const clock = new VirtualClock();
        const b = new CircuitBreaker({
          clock,
          openDurationMs: 1_000,
          probeTimeoutMs: 2_000,
          halfOpenMaxProbes: maxProbes,
          halfOpenSuccesses: 2,
          openBackoff: { maxMs: 8_000 },
          trip: { kind: 'consecutive', threshold: 3 },
        });
        const held: number[] = [];
        let probesAdmitted = 0;
        let lastState: CircuitState = b.state;
        b.onStateChange((e) => {
          lastState = e.to;
          probesAdmitted = 0;
        });
        for (const o of ops) {
          if (o.kind === 'acquire') {
            const t = b.tryAcquire();
            if (t >= 0) {
              held.push(t);
              if (t % 2 === 1) probesAdmitted++;
            }
          } else if (o.kind === 'release' && held.length > 0) {
            const [t] = held.splice(o.pick % held.length, 1);
            b.release(t as number, o.outcome);
          } else if (o.kind === 'advance') {
            clock.advance(o.ms);
          }
          if (b.probesInFlight > maxProbes) return false;
          if (b.state !== lastState) return false; // every change was announced
          if (b.state === 'half-open' && b.probesInFlight > probesAdmitted) return false;
        }
        // Whatever happened, and even if held tokens are never released: time alone reopens the door…
        clock.advance(8_000 + 2_000);
        if (b.state === 'open') return false;
        // …and a healthy upstream closes the circuit.
        for (let i = 0; i < 2 * maxProbes + 2 && b.state !== 'closed'; i++) {
          const t = b.tryAcquire();
          if (t >= 0) b.release(t, 200);
          else clock.advance(2_000);
        }
        return b.state === 'closed';
      }),
      { numRuns: 300 },
    );
  });
});
