import { describe, expect, it } from 'vitest';
import { ControlPlaneRequestError, TransportUnavailableError } from './errors.js';
import { isReplicaFault, Replicas } from './replicas.js';

const urls = (n: number) => Array.from({ length: n }, (_, i) => new URL(`http://cp-${i}:8080`));

describe('Replicas', () => {
  it('moves through the replicas in order, wrapping, and calls every full round of failures one', () => {
    const r = new Replicas(urls(3));
    expect(r.label).toBe('http://cp-0:8080/');
    expect([r.failover(), r.failover(), r.failover()]).toEqual([false, false, true]);
    expect(r.currentIndex).toBe(0);
    expect([r.failover(), r.failover(), r.failover()]).toEqual([false, false, true]);
  });

  it('starts a new round after a replica answered, and stays on it', () => {
    const r = new Replicas(urls(2));
    expect(r.failover()).toBe(false);
    r.succeeded();
    expect(r.current.hostname).toBe('cp-1');
    expect(r.failover()).toBe(false); // one failure since the success: not a round yet
    expect(r.failover()).toBe(true);
  });

  it('with a single replica, every failure is a round', () => {
    const r = new Replicas(urls(1));
    expect([r.failover(), r.failover()]).toEqual([true, true]);
    expect(r.currentIndex).toBe(0);
  });
});

describe('isReplicaFault', () => {
  it('blames the replica for no answer, a 5xx, a 429 and a transient stream refusal; not for a 4xx', () => {
    const status = (s: number) => new ControlPlaneRequestError('GET', '/v1/rules', s, 'x');
    expect([0, 500, 502, 503, 429].map((s) => isReplicaFault(status(s)))).toEqual([true, true, true, true, true]);
    expect([400, 401, 404, 410].map((s) => isReplicaFault(status(s)))).toEqual([false, false, false, false]);
    expect(isReplicaFault(new TransportUnavailableError('sse', 'x', { transient: true }))).toBe(true);
    expect(isReplicaFault(new TransportUnavailableError('sse', 'buffered'))).toBe(false);
    expect(isReplicaFault(new Error('x'))).toBe(false);
  });
});
