import type { SettingInfo } from './describe.js';

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/**
 * Turns the text of a flag or environment variable into a value of the setting's kind. Text that
 * does not convert is passed on unchanged, so the schema rejects it with the same message (and
 * the same origin) as a bad value in the file. `texts` has one entry per occurrence: a list flag
 * may be repeated, and each occurrence may hold several comma-separated items.
 */
export function fromText(setting: SettingInfo, texts: readonly string[]): unknown {
  const last = texts[texts.length - 1] ?? '';
  switch (setting.kind) {
    case 'list':
      return texts.flatMap((t) =>
        t
          .split(',')
          .map((item) => item.trim())
          .filter((item) => item !== ''),
      );
    case 'integer':
      return /^[+-]?\d+$/.test(last.trim()) ? Number(last) : last;
    case 'boolean': {
      const word = last.trim().toLowerCase();
      return TRUE.has(word) ? true : FALSE.has(word) ? false : last;
    }
    default:
      return last;
  }
}
