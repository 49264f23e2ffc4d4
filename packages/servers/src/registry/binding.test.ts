/** The registry's binding check of writes by id, on a real MemoryRegistry. */
import { isWeftError, MemoryRegistry, type Registry } from '@weft/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { checkInstanceWrite } from './binding.js';

const registries: Registry[] = [];
afterEach(async () => {
  for (const registry of registries.splice(0)) await registry.close();
});

async function withInstances(): Promise<{ registry: MemoryRegistry; reviews: string; ratings: string }> {
  const registry = new MemoryRegistry();
  registries.push(registry);
  const at = (service: string, port: number) =>
    registry.register({ service, endpoint: { type: 'http', value: `10.0.0.1:${port}` } }, { namespace: 'team-a' });
  return { registry, reviews: (await at('reviews', 9080)).id, ratings: (await at('ratings', 9081)).id };
}

const bound = (...services: string[]) => ({ namespace: 'team-a', boundServices: services });

describe('checkInstanceWrite', () => {
  it('passes the bound services’ own instances, reading only their lists', async () => {
    const { registry, reviews } = await withInstances();
    const reads = vi.spyOn(registry, 'instances');
    await checkInstanceWrite(registry, bound('reviews'), reviews, 'renews');
    expect(reads.mock.calls.map(([query]) => query?.service)).toEqual(['reviews']);
  });

  it('refuses another service’s instance, naming its service and the binding', async () => {
    const { registry, ratings } = await withInstances();
    const err = await checkInstanceWrite(registry, bound('reviews', 'details'), ratings, 'deregisters').catch(
      (e: unknown) => e,
    );
    expect(isWeftError(err, 'WEFT_ERR_BINDING_FORBIDDEN')).toBe(true);
    expect((err as Error).message).toBe(
      'the request deregisters an instance of service ratings: these credentials are bound to services reviews, details in namespace team-a',
    );
    expect((err as { status: number }).status).toBe(403);
  });

  it('passes an id the namespace does not have (the write answers it), and namespace-wide credentials without a read', async () => {
    const { registry, ratings } = await withInstances();
    await checkInstanceWrite(registry, bound('reviews'), '0123456789abcdef', 'renews');
    // Another namespace's view: the id is unknown there, so nothing is refused.
    await checkInstanceWrite(registry, { namespace: 'team-b', boundServices: ['reviews'] }, ratings, 'renews');
    const reads = vi.spyOn(registry, 'instances');
    await checkInstanceWrite(registry, { namespace: 'team-a', boundServices: undefined }, ratings, 'renews');
    expect(reads).not.toHaveBeenCalled();
  });
});
