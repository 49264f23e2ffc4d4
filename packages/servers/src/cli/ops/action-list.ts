import type { Command } from '../command.js';
import { describeAction } from './actions.js';
import { opCommand } from './command.js';
import { listFlag, OUTPUT_FLAGS } from './common-flags.js';
import { describeMatch } from './describe-match.js';
import { UsageError } from './errors.js';
import { outputFormat, serialize } from './output.js';
import { inEvaluationOrder } from './routes.js';
import { renderTable } from './table.js';
import { servicesOf } from './wire.js';

/** `weft action-list`: the action (fault injection) rules. */
export const actionListCommand: Command = opCommand({
  name: 'action-list',
  summary: 'list the action (fault injection) rules (a8ctl)',
  usage: '[-d <destination>]… [-o table|json|yaml]',
  description: [
    'Lists every action rule, by destination, in the order a proxy applies them: when it applies (source, headers, cookies) and what it does, in the syntax action-add takes — v1(1->delay=7) delays every request to v1 by 7 s, v2(0.5->abort=400) answers half of those to v2 with 400.',
  ],
  examples: [
    ['weft action-list', 'the table'],
    ['weft action-list -d ratings -o json', '[{id, destination, priority, match, actions}] for a script'],
  ],
  flags: [
    ...OUTPUT_FLAGS,
    {
      name: 'destination',
      short: 'd',
      type: 'string',
      multiple: true,
      placeholder: '<service>',
      description: 'Only these destinations',
    },
  ],
  remote: true,
  async run(op) {
    const format = outputFormat(op.args.values, 'table');
    if (op.args.positionals.length > 0) throw new UsageError(`unexpected argument '${op.args.positionals[0]}'`);
    const only = listFlag(op.args.values, 'destination');
    const answer = await op.controller.get('/v1/rules/actions', {
      query: only.length === 0 ? {} : { destination: only },
    });
    const list = [...servicesOf(answer.body)]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .flatMap(([, rules]) => inEvaluationOrder(rules))
      .map((rule) => ({
        id: rule.id ?? '',
        destination: rule.destination,
        priority: rule.priority ?? 0,
        match: describeMatch(rule.match),
        actions: (rule.actions ?? []).map(describeAction),
      }));
    if (format !== 'table') {
      op.out(await serialize(list, format));
      return;
    }
    if (list.length === 0) {
      op.note('no action rules');
      return;
    }
    op.out(
      renderTable(
        ['Destination', 'Match', 'Priority', 'Actions', 'Rule id'],
        list.map((r) => [r.destination, r.match.join(', '), String(r.priority), r.actions.join(', '), r.id]),
        op.color,
      ),
    );
  },
});
