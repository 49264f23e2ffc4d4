/**
 * Core validates with `zod/mini`, the functional API of zod, which bundlers tree-shake down to the
 * validators actually used (tens of KB, where classic `zod` puts ~730 KB in every bundle). Import
 * it as `import * as z from 'zod/mini'`, never `from 'zod'`; a re-export of it from a local module
 * would defeat the tree-shaking of bundles built from core's `dist`.
 *
 * {@link setUpZod} installs the two things classic `zod` installs by itself and `zod/mini` does
 * not. It runs when this module loads, so modules that use {@link withMeta} get it for free; a
 * module that builds schemas without these helpers calls it itself, because core is
 * `sideEffects: false` and a bundle that uses only its schemas would otherwise drop this module.
 */
import { en } from 'zod/locales';
import * as z from 'zod/mini';

/**
 * Installs, globally as classic zod does, and only where unset, so an application's own choice
 * (another locale, say) wins:
 * - English issue messages ("Unrecognized key: …", "Too big: …"), which Weft's validation errors
 *   show (mini alone says "Invalid input" for all of them);
 * - the memoizer, with which recursive schemas (the `z.json()` of metadata) accept shared and
 *   cyclic values. Containers pick it up when they are built, so this must run first.
 *
 * Idempotent.
 */
export function setUpZod(): void {
  const config = z.config();
  if (config.localeError === undefined) z.config(en());
  if (config.memoizer === undefined) z.config({ memoizer: z.memoizer() });
}
setUpZod();

/**
 * `schema` with `metadata` (an `id` makes it a `$defs` entry of the JSON Schemas). Classic zod's
 * `schema.meta(metadata)`: a copy, registered in the global registry, so the generated JSON
 * Schemas stay the same as they were with classic zod.
 */
export function withMeta<T extends z.core.$ZodType>(schema: T, metadata: z.core.GlobalMeta): T {
  const copy = z.clone(schema);
  z.globalRegistry.add(copy, metadata);
  return copy;
}

/** `schema` with a description: classic zod's `schema.describe(description)`. */
export function withDescription<T extends z.core.$ZodType>(schema: T, description: string): T {
  return withMeta(schema, { description });
}
