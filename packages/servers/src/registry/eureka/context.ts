import type { Registry } from '@weft/core';
import type { ChangeLogs } from './change-log.js';

/** What the Eureka handlers share. */
export interface EurekaContext {
  readonly registry: Registry;
  readonly logs: ChangeLogs;
}

/** Makes an acknowledged write durable first, on stores that persist in the background (a snapshot file). */
export async function durable(registry: Registry): Promise<void> {
  if (registry.flush === undefined) return;
  try {
    await registry.flush();
  } catch (cause) {
    throw new Error('the change was applied but could not be made durable; retry it', { cause });
  }
}

/** A query parameter's first value, or undefined. */
export function queryValue(query: unknown, name: string): string | undefined {
  if (typeof query !== 'object' || query === null) return undefined;
  const raw = (query as Record<string, unknown>)[name];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return typeof value === 'string' ? value : undefined;
}
