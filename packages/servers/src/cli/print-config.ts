import type { SettingInfo } from '../config/describe.js';
import { formatDuration } from '../config/duration.js';
import { getAt } from '../config/load.js';
import { describeOrigin, type Origin } from '../config/origin.js';

/** A value as it would be written in the config file. */
function asWritten(stringify: typeof import('yaml').stringify, setting: SettingInfo, value: unknown): string {
  if (setting.secret) return '<hidden>';
  if (setting.kind === 'duration' && typeof value === 'number') return formatDuration(value);
  return stringify(value, { collectionStyle: 'flow' }).trimEnd();
}

/**
 * The effective settings as a YAML config file, each line commented with where its value came
 * from (`# --port`, `# env WEFT_AUTH`, `# weft.yaml:4`, `# default`). Settings left unset are
 * listed commented out, so the output doubles as a template.
 */
export async function printConfig(
  config: unknown,
  settings: readonly SettingInfo[],
  origins: ReadonlyMap<string, Origin>,
): Promise<string> {
  const { stringify } = await import('yaml');
  const lines: string[] = [];
  let open: readonly string[] = [];
  for (const s of settings) {
    // Open the mappings this key is in that the previous key was not.
    let common = 0;
    while (common < open.length && common < s.path.length - 1 && open[common] === s.path[common]) common++;
    for (let i = common; i < s.path.length - 1; i++) lines.push(`${'  '.repeat(i)}${s.path[i]}:`);
    open = s.path.slice(0, -1);
    const indent = '  '.repeat(s.path.length - 1);
    const name = s.path[s.path.length - 1];
    const value = getAt(config, s.path);
    if (value === undefined) {
      lines.push(`${indent}# ${name}:  (not set)`);
      continue;
    }
    const origin = origins.get(s.key);
    lines.push(
      `${indent}${name}: ${asWritten(stringify, s, value)}  # ${origin === undefined ? 'default' : describeOrigin(origin)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
