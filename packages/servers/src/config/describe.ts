import * as z from 'zod/mini';
import { type SettingKind, settingMeta } from './define.js';

/** One setting of a command, as flags, environment, file and help see it. */
export interface SettingInfo {
  /** Dotted key path in the config file (`registry.store.path`). */
  readonly key: string;
  readonly path: readonly string[];
  readonly kind: SettingKind;
  readonly description: string;
  /** The flag without `--`; undefined for secrets (see `SettingMeta.flag`). */
  readonly flag: string | undefined;
  readonly env: string;
  readonly secret: boolean;
  /** The default as a user writes it, if any. */
  readonly default: unknown;
  /** The allowed values of an enum setting (or of a list's items). */
  readonly choices: readonly string[] | undefined;
  readonly placeholder: string;
}

const kebab = (word: string): string => word.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const snake = (word: string): string => word.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();

const PLACEHOLDER: Record<SettingKind, string> = {
  string: '<value>',
  integer: '<n>',
  boolean: '',
  duration: '<duration>',
  list: '<a,b,…>',
};

/** The enum values a setting accepts, read from its JSON Schema (zod's public view of it). */
function choicesOf(schema: z.core.$ZodType): string[] | undefined {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as {
    enum?: unknown[];
    items?: { enum?: unknown[] };
  };
  const values = json.enum ?? json.items?.enum;
  return values?.map(String);
}

/** The object a section stands for, through the optional / default wrappers. */
function objectShape(schema: z.core.$ZodType): Record<string, z.core.$ZodType> | undefined {
  let t: z.core.$ZodType = schema;
  while (t instanceof z.core.$ZodPrefault || t instanceof z.core.$ZodOptional || t instanceof z.core.$ZodDefault)
    t = t._zod.def.innerType;
  return t instanceof z.core.$ZodObject ? t._zod.def.shape : undefined;
}

/**
 * Every setting of a config schema, in declaration order: the one table that flags, environment
 * variables, the config file's keys and `--help` are all derived from, so none can drift from
 * what is validated.
 */
export function describeSettings(schema: z.core.$ZodType, prefix: readonly string[] = []): SettingInfo[] {
  const shape = objectShape(schema);
  if (shape === undefined) throw new TypeError(`config schema at "${prefix.join('.')}" is not an object`);
  const out: SettingInfo[] = [];
  for (const [name, member] of Object.entries(shape)) {
    const path = [...prefix, name];
    const meta = settingMeta.get(member);
    if (meta === undefined) {
      out.push(...describeSettings(member, path));
      continue;
    }
    const key = path.join('.');
    out.push({
      key,
      path,
      kind: meta.kind,
      description: meta.description,
      flag: meta.flag === false ? undefined : (meta.flag ?? path.map(kebab).join('-')),
      env: meta.env ?? `WEFT_${path.map(snake).join('_')}`,
      secret: meta.secret === true,
      default: meta.default,
      choices: choicesOf(member),
      placeholder: meta.placeholder ?? PLACEHOLDER[meta.kind],
    });
  }
  return out;
}
