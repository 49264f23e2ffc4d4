import type { Command } from '../command.js';
import { opCommand } from './command.js';
import { NotFoundError, UsageError } from './errors.js';
import { FILTER_FLAGS, filterQuery, isEmptyFilter } from './rule-filter.js';

/** `weft rule-delete`: rules by id, tag or destination. */
export const ruleDeleteCommand: Command = opCommand({
  name: 'rule-delete',
  summary: 'delete rules by id, tag or destination (a8ctl)',
  usage: '[<id>…] [-i <id>]… [-t <tag>]… [-d <destination>]… | --all',
  description: [
    'Deletes the rules that pass the filters (as rule-get selects them). Ids may be given as arguments, as a8ctl 0.3 took one. Deleting every rule takes --all, so that a forgotten filter cannot. Ids that match nothing exit 3; tags and destinations that match nothing are not an error.',
  ],
  examples: [
    ['weft rule-delete 3f2a…', 'one rule'],
    ['weft rule-delete -d reviews -t canary', "reviews' canary rules"],
    ['weft rule-delete --all', 'every rule of the namespace'],
  ],
  flags: [
    ...FILTER_FLAGS,
    {
      name: 'force',
      short: 'f',
      type: 'boolean',
      description: 'Accepted for a8ctl (nothing asks for confirmation)',
      hidden: true,
    },
  ],
  remote: true,
  async run(op) {
    const query = filterQuery(op.args.values, op.args.positionals);
    const all = op.args.values.all === true;
    if (all && !isEmptyFilter(query)) throw new UsageError('--all contradicts the filters');
    if (!all && isEmptyFilter(query))
      throw new UsageError('which rules? give ids, -i, -t or -d, or --all for every rule');
    const answer = await op.controller.request('DELETE', '/v1/rules', { query });
    const removed = (answer.body as { removed?: unknown } | undefined)?.removed;
    const ids = Array.isArray(removed) ? removed.map(String) : [];
    if (query.id.length > 0 && ids.length === 0) throw new NotFoundError(`no rule with id ${query.id.join(', ')}`);
    op.out(
      ids.length === 0
        ? 'No rules matched\n'
        : `Deleted ${ids.length} rule${ids.length === 1 ? '' : 's'}: ${ids.join(', ')}\n`,
    );
  },
});
