import { wrap } from '../wrap.js';
import { EXIT } from './errors.js';
import type { FlagSpec } from './flags.js';
import type { OpSpec } from './op-spec.js';

function flagLines(f: FlagSpec): string {
  const head = `  ${f.short === undefined ? '    ' : `-${f.short}, `}--${f.name}${f.type === 'string' ? ` ${f.placeholder ?? '<value>'}` : ''}`;
  return `${head}${f.multiple === true ? '  (repeatable)' : ''}\n${wrap(f.description, '      ')}`;
}

/** `weft <operator command> --help`: usage, what it does, flags, examples and exit codes. */
export function opHelp(spec: OpSpec, flags: readonly FlagSpec[]): string {
  const shown = flags.filter((f) => f.hidden !== true);
  const own = shown.filter((f) => spec.flags.includes(f));
  const common = shown.filter((f) => !spec.flags.includes(f));
  const width = Math.max(...spec.examples.map(([cmd]) => cmd.length));
  return [
    `weft ${spec.name} — ${spec.summary}`,
    '',
    `Usage: weft ${spec.name}${spec.usage === '' ? '' : ` ${spec.usage}`}`,
    '',
    ...spec.description.map((p) => `${wrap(p, '')}\n`),
    ...(own.length === 0 ? [] : ['Flags:', ...own.map(flagLines), '']),
    'Common flags:',
    ...common.map(flagLines),
    '',
    'Examples:',
    ...spec.examples.map(([cmd, why]) => `  ${cmd.padEnd(width)}   # ${why}`),
    '',
    `Exit codes: ${EXIT.ok} done · ${EXIT.runtime} a server cannot be reached or failed · ${EXIT.usage} usage error or invalid input · ${EXIT.notFound} not found · ${EXIT.conflict} the current state does not allow it`,
    '',
  ].join('\n');
}
