import * as z from 'zod/mini';

/** How far a JSON value may nest and how many values it may hold. */
export interface JsonBounds {
  /** Most levels of objects and arrays; the value itself, when it is an object, is level 1. */
  readonly maxDepth: number;
  /** Most values in all (every object, array and scalar counts once). */
  readonly maxValues: number;
  /** Says what exceeding `maxValues` means for the caller (e.g. a byte limit it implies). */
  readonly tooManyValues: string;
}

/**
 * Why `value` exceeds `bounds`, or undefined. Walks with an explicit stack, never recursion: it
 * runs *before* the recursive validators (zod's `z.json()`, `JSON.stringify`, freezing), which
 * overflow the call stack a few thousand levels down and then throw a bare RangeError. A value
 * that refers to itself nests without end and is reported as too deep; a subtree shared by
 * several parents is counted once per parent, as JSON would write it, so sharing cannot make
 * the walk longer than `maxValues` steps.
 */
export function jsonBoundsProblem(value: unknown, bounds: JsonBounds): string | undefined {
  const values: unknown[] = [value];
  const depths: number[] = [0];
  let seen = 0;
  while (values.length > 0) {
    const v = values.pop();
    const depth = depths.pop() as number;
    seen++;
    if (typeof v !== 'object' || v === null) continue;
    if (depth + 1 > bounds.maxDepth)
      return `must not nest objects and arrays more than ${bounds.maxDepth} levels deep (nor refer to itself)`;
    const children: readonly unknown[] = Array.isArray(v) ? v : Object.values(v);
    // Checked before pushing, so a huge array or object costs nothing to refuse.
    if (seen + values.length + children.length > bounds.maxValues) return bounds.tooManyValues;
    for (const child of children) {
      values.push(child);
      depths.push(depth + 1);
    }
  }
  return undefined;
}

/**
 * `schema` behind a {@link jsonBoundsProblem} check that sees the raw input first and stops the
 * parse when it fails, so `schema` only ever validates bounded values. Typed as `schema`: it
 * accepts, returns and (in an object) makes optional exactly what `schema` does, and JSON
 * Schemas generated for input show `schema` itself.
 */
export function withJsonBounds<T extends z.core.$ZodType>(schema: T, bounds: JsonBounds): T {
  const guard = z.transform<z.input<T>, z.input<T>>((value, payload) => {
    const problem = jsonBoundsProblem(value, bounds);
    if (problem !== undefined) payload.issues.push({ code: 'custom', message: problem, input: value });
    return value;
  });
  // The guard passes its input through unchanged, so `schema` receives exactly its own input type.
  return z.pipe(guard as z.core.$ZodType, schema as z.core.$ZodType) as unknown as T;
}
