import type { Command } from '../command.js';
import { describeAction } from './actions.js';
import { opCommand } from './command.js';
import { RULES_OUTPUT_FLAGS } from './common-flags.js';
import { describeMatch } from './describe-match.js';
import { NotFoundError, UsageError } from './errors.js';
import { outputFormat, serialize } from './output.js';
import { FILTER_FLAGS, filterQuery, isEmptyFilter } from './rule-filter.js';
import { renderTable } from './table.js';
import { tagsToVersion } from './versions.js';
import { rulesOf, type WireRule } from './wire.js';

/** What a rule does, in one cell: its backends (`v2 25%, v1`) or its actions. */
function effect(rule: WireRule): string {
  if (rule.route !== undefined)
    return rule.route.backends
      .map((b) => `${tagsToVersion(b.tags)}${b.weight === undefined ? '' : ` ${Math.round(b.weight * 1000) / 10}%`}`)
      .join(', ');
  return (rule.actions ?? []).map(describeAction).join(', ');
}

/** `weft rule-get`: rules in the DSL. */
export const ruleGetCommand: Command = opCommand({
  name: 'rule-get',
  summary: 'print rules in the rules DSL, filtered by id, tag or destination (a8ctl)',
  usage: '[-a] [-i <id>]… [-t <tag>]… [-d <destination>]… [-o json|yaml|table]',
  description: [
    "Prints the rules that pass the filters — ids and destinations are alternatives, tags are all required (Amalgam8's filter) — or every rule without filters, as {rules, revision}: JSON by default (as a8ctl), YAML with -o yaml (rule-update -f takes either back), or a summary table with -o table. A filter by id that finds nothing exits 3.",
  ],
  examples: [
    ['weft rule-get', 'every rule, JSON'],
    ['weft rule-get -d reviews -o yaml', "reviews' rules, to edit"],
    ['weft rule-get -t canary -o table', 'a summary'],
  ],
  flags: [...FILTER_FLAGS, ...RULES_OUTPUT_FLAGS],
  remote: true,
  async run(op) {
    const format = outputFormat(op.args.values, 'json');
    if (op.args.positionals.length > 0)
      throw new UsageError(`unexpected argument '${op.args.positionals[0]}' (an id goes after -i)`);
    const query = filterQuery(op.args.values);
    if (op.args.values.all === true && !isEmptyFilter(query)) throw new UsageError('--all contradicts the filters');
    const answer = await op.controller.get('/v1/rules', { query });
    const rules = rulesOf(answer.body);
    if (query.id.length > 0 && rules.length === 0) throw new NotFoundError(`no rule with id ${query.id.join(', ')}`);
    if (format !== 'table') {
      op.out(await serialize({ rules, revision: answer.revision }, format));
      return;
    }
    if (rules.length === 0) {
      op.note('no rules');
      return;
    }
    op.out(
      renderTable(
        ['Id', 'Destination', 'Kind', 'Priority', 'Match', 'Route / actions', 'Tags'],
        rules.map((r) => [
          r.id ?? '',
          r.destination,
          r.route !== undefined ? 'route' : 'action',
          String(r.priority ?? 0),
          describeMatch(r.match).join(', '),
          effect(r),
          (r.tags ?? []).join(','),
        ]),
        op.color,
      ),
    );
  },
});
