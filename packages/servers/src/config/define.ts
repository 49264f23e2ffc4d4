import * as z from 'zod/mini';
import { setUpZod } from './zod-setup.js';

setUpZod();

/**
 * How the text of a flag or an environment variable becomes a setting's value. A config file
 * gives YAML values as they are (a number is a number), so this matters for text only.
 */
export type SettingKind = 'string' | 'integer' | 'boolean' | 'duration' | 'list';

/** What the command line needs to know of a setting, beside its schema. */
export interface SettingMeta {
  readonly kind: SettingKind;
  /** One line for `--help`, the README and the JSON Schema. */
  readonly description: string;
  /**
   * The flag, without `--`. Default: the key path in kebab case (`registry.store.path` →
   * `registry-store-path`). `false` for secrets: a command line is visible to every user of the
   * machine (`ps`), so a secret is read from the environment or a file only.
   */
  readonly flag?: string | false;
  /** The environment variable. Default: `WEFT_` and the key path in upper snake case. */
  readonly env?: string;
  /** Never printed, not even in an error message. */
  readonly secret?: boolean;
  /** The placeholder of the value in `--help` (`<port>`). Default: from the kind. */
  readonly placeholder?: string;
}

/** Where {@link setting} keeps each setting's {@link SettingMeta}; read by `describeSettings`. */
export const settingMeta = z.registry<SettingMeta & { default?: unknown }>();

/**
 * A setting with a default. The default is given as a user would write it (`'5m'`) and parsed
 * through the schema like any other value (`prefault`), so it is validated and transformed too.
 */
export function setting<S extends z.core.$ZodType>(
  schema: S,
  meta: SettingMeta & { default: z.input<S> },
): z.ZodMiniPrefault<S>;
/** A setting without a default: absent unless some origin sets it. */
export function setting<S extends z.core.$ZodType>(schema: S, meta: SettingMeta): z.ZodMiniOptional<S>;
export function setting<S extends z.core.$ZodType>(
  schema: S,
  meta: SettingMeta & { default?: z.input<S> },
): z.ZodMiniPrefault<S> | z.ZodMiniOptional<S> {
  const wrapped = 'default' in meta ? z.prefault(schema, meta.default as never) : z.optional(schema);
  settingMeta.add(wrapped, meta);
  // The description also goes to the global registry, which is what the JSON Schema shows.
  z.globalRegistry.add(wrapped, { description: meta.description });
  return wrapped;
}

/** A group of settings (a YAML mapping), optional as a whole, its members' defaults applied when absent. */
export function section<T extends z.core.$ZodLooseShape>(
  shape: T,
  description: string,
): z.ZodMiniPrefault<z.ZodMiniObject<T, z.core.$strict>> {
  const wrapped = z.prefault(
    z.strictObject(shape, { error: 'must be a mapping of settings (key: value)' }),
    {} as never,
  );
  z.globalRegistry.add(wrapped, { description });
  return wrapped;
}
