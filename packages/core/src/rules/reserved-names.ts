import type { ValidationIssue } from '../errors/specific.js';

const NAMED_CONDITIONS = ['headers', 'cookies', 'query'] as const;

/**
 * Condition records (`match.headers`, `match.cookies`, `match.query`) that name `__proto__`.
 * Schema parsing builds each record by assignment, where `__proto__` would set the prototype, so
 * zod drops the key without a word — and a rule whose only condition vanished matches every
 * request. This looks at the raw input, before parsing, and reports each one instead.
 */
export function reservedNameIssues(rules: unknown): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (!Array.isArray(rules)) return issues;
  rules.forEach((rule: unknown, i) => {
    const match = ownObject(rule, 'match');
    for (const field of NAMED_CONDITIONS) {
      const record = ownObject(match, field);
      if (record !== undefined && Object.hasOwn(record, '__proto__'))
        issues.push({
          path: `rules[${i}].match.${field}.__proto__`,
          message: 'the name __proto__ is not supported (it cannot be told apart from the prototype of an object)',
        });
    }
  });
  return issues;
}

function ownObject(value: unknown, key: string): object | undefined {
  if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
  const v = (value as Record<string, unknown>)[key];
  return typeof v === 'object' && v !== null ? v : undefined;
}
