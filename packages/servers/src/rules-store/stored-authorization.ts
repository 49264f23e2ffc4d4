import { type AuthorizationDocument, InvalidArgumentError, parseAuthorization, type ValidationIssue } from '@weft/core';
import { deepFreeze } from './prepare.js';

/**
 * Reads the `authorization` of a stored namespace (file store, etcd value): absent stays absent,
 * anything else is validated like a `PUT /v1/authorization` body and frozen. Problems are
 * returned with `at` in front of their paths, so a damaged store names the exact field.
 */
export function decodeStoredAuthorization(
  value: unknown,
  at: string,
  issues: ValidationIssue[],
): AuthorizationDocument | undefined {
  if (value === undefined) return undefined;
  try {
    return deepFreeze(parseAuthorization(value));
  } catch (err) {
    if (!(err instanceof InvalidArgumentError)) throw err;
    issues.push(...err.issues.map((i) => ({ path: i.path === '' ? at : `${at}.${i.path}`, message: i.message })));
    return undefined;
  }
}
