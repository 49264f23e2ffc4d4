import { listFlag } from './common-flags.js';
import type { FlagSpec } from './flags.js';

/** a8ctl's rule filters: `-i id`, `-t tag`, `-d destination`, each repeatable. */
export const FILTER_FLAGS: readonly FlagSpec[] = [
  { name: 'id', short: 'i', type: 'string', multiple: true, placeholder: '<id>', description: 'Rules with this id' },
  {
    name: 'tag',
    short: 't',
    type: 'string',
    multiple: true,
    placeholder: '<tag>',
    description: 'Rules carrying this tag (several: all of them)',
  },
  {
    name: 'destination',
    short: 'd',
    type: 'string',
    multiple: true,
    placeholder: '<service>',
    description: 'Rules of this destination',
  },
  { name: 'all', short: 'a', type: 'boolean', description: 'Every rule (no filter)' },
];

/** The controller's query for the filters; ids may also be given as arguments (a8ctl 0.3's `rule-delete <id>`). */
export function filterQuery(
  values: Readonly<Record<string, unknown>>,
  positionalIds: readonly string[] = [],
): { id: string[]; tag: string[]; destination: string[] } {
  return {
    id: [...listFlag(values, 'id'), ...positionalIds],
    tag: listFlag(values, 'tag'),
    destination: listFlag(values, 'destination'),
  };
}

export const isEmptyFilter = (q: ReturnType<typeof filterQuery>): boolean =>
  q.id.length === 0 && q.tag.length === 0 && q.destination.length === 0;
