import type { Command } from '../command.js';
import { opCommand } from './command.js';
import { stringFlag } from './common-flags.js';
import { UsageError } from './errors.js';
import { outputFormat, serialize } from './output.js';
import { readRulesInput } from './rules-input.js';
import { printWarnings } from './warnings.js';

const FLAGS = [
  {
    name: 'file',
    short: 'f',
    type: 'string',
    placeholder: '<file>|-',
    description: 'The rules, JSON or YAML; - (or no -f) reads standard input',
  },
  // a8ctl's Go CLI needed -r to read redirected input; here standard input is read when it is not a terminal.
  {
    name: 'redirect',
    short: 'r',
    type: 'boolean',
    description: 'Accepted for a8ctl (standard input is read whenever it is piped)',
    hidden: true,
  },
  {
    name: 'output',
    short: 'o',
    type: 'string',
    placeholder: 'table|json|yaml',
    description: "The controller's answer ({ids, revision, warnings}) as JSON or YAML",
  },
] as const;

/** `rule-create` (POST: new rules) and `rule-update` (PUT: rules replaced by id). */
function ruleWrite(kind: 'create' | 'update'): Command {
  const create = kind === 'create';
  return opCommand({
    name: `rule-${kind}`,
    summary: create
      ? 'create route and action rules from a JSON or YAML file (a8ctl)'
      : 'update rules by id from a JSON or YAML file (a8ctl)',
    usage: '[-f <file>|-] [-o json|yaml]',
    description: [
      create
        ? "Adds the rules of the file (Amalgam8's rules DSL, {rules: [...]} or a bare list) to the controller. Rules without an id get one; an id already taken is refused (exit 4). All or nothing: when one rule is invalid, none is added, and every problem is named with its path (exit 2)."
        : "Replaces the stored rules that have the ids of the file's rules with them (each rule needs its id; rule-get -o yaml gives a file to edit). An unknown id is refused (exit 3). All or nothing.",
      'Warnings from the controller — a backend no instance carries, a rule that never applies — are printed on standard error; they do not fail the command.',
    ],
    examples: create
      ? [
          ['weft rule-create -f rules.yaml', 'from a file'],
          ['cat rules.json | weft rule-create', 'from standard input'],
        ]
      : [['weft rule-get -i my-rule -o yaml > r.yaml; $EDITOR r.yaml; weft rule-update -f r.yaml', 'edit a rule']],
    flags: FLAGS,
    remote: true,
    async run(op) {
      const format = outputFormat(op.args.values, 'table');
      if (op.args.positionals.length > 0)
        throw new UsageError(`unexpected argument '${op.args.positionals[0]}' (the file goes after -f)`);
      const { doc } = await readRulesInput(stringFlag(op.args.values, 'file'), op.cli.cwd);
      const answer = await op.controller.request(create ? 'POST' : 'PUT', '/v1/rules', { body: doc });
      if (format !== 'table') {
        op.out(await serialize(answer.body, format));
        return;
      }
      printWarnings(op, answer.body);
      const ids = (answer.body as { ids?: unknown } | undefined)?.ids;
      const list = Array.isArray(ids) ? ids.map(String) : [];
      op.out(
        `${create ? 'Created' : 'Updated'} ${list.length} rule${list.length === 1 ? '' : 's'}: ${list.join(', ')}\n`,
      );
    },
  });
}

export const ruleCreateCommand: Command = ruleWrite('create');
export const ruleUpdateCommand: Command = ruleWrite('update');
