import { DEFAULT_NAMESPACE, InvalidArgumentError, type NamespaceOption, NamespaceSchema } from '@weft/core';

/**
 * The fields of `options` named in `keys` that are set: optional settings passed on without
 * turning "unset" into an explicit `undefined` (which `exactOptionalPropertyTypes` rejects and
 * which would override a default in a spread).
 */
export function definedOnly<T extends object, K extends keyof T>(options: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (options[k] !== undefined) out[k] = options[k];
  return out;
}

/** The namespace an option names (default `default`), checked: a non-empty string. */
export function namespaceOf(options: NamespaceOption | undefined): string {
  const ns = options?.namespace ?? DEFAULT_NAMESPACE;
  if (!NamespaceSchema.safeParse(ns).success)
    throw new InvalidArgumentError('namespace', [{ path: 'namespace', message: 'must be a non-empty string' }]);
  return ns;
}
