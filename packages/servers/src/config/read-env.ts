import type { SettingInfo } from './describe.js';
import type { Origin } from './origin.js';
import { fromText } from './text-value.js';

/** A value given as text (a flag or an environment variable) for one setting. */
export interface TextValue {
  readonly setting: SettingInfo;
  readonly value: unknown;
  readonly origin: Origin;
}

/**
 * The settings given in the environment. Only known variables are read: other `WEFT_*`
 * variables may belong to another command (or to a test harness) and are not errors. An empty
 * variable counts as unset, as in most tools (`WEFT_PORT= weft …` clears an exported one).
 */
export function readEnv(settings: readonly SettingInfo[], env: NodeJS.ProcessEnv): TextValue[] {
  const out: TextValue[] = [];
  for (const setting of settings) {
    const text = env[setting.env];
    if (text === undefined || text === '') continue;
    out.push({ setting, value: fromText(setting, [text]), origin: { type: 'env', name: setting.env } });
  }
  return out;
}
