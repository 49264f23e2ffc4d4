import type { Command } from '../command.js';
import { opCommand } from './command.js';
import { listFlag, OUTPUT_FLAGS } from './common-flags.js';
import { EXIT, UsageError } from './errors.js';
import { outputFormat, serialize } from './output.js';
import { readRulesInput } from './rules-input.js';
import { renderTable } from './table.js';

/** `weft lint -f rules.yaml`: core's lint, offline. */
export const lintCommand: Command = opCommand({
  name: 'lint',
  summary: 'check rules files for mistakes, offline (invalid fields, rules that never apply, …)',
  usage: '-f <file>|- [-f <file>]… [--strict] [-o table|json|yaml]',
  description: [
    "Validates the rules of each file (JSON or YAML, {rules: [...]} or a list) as the controller would, and reports what validation cannot see, as the controller's warnings do: rules shadowed by a catch-all, equal priorities, weights and probabilities that do nothing, cookie regexes that miss the second cookie. It needs no server, so it fits a CI step or a pre-commit hook. (The controller also checks backends against registered instances; lint has none to look at.)",
    'Exit 2 when a file has errors (invalid rules); with --strict, warnings fail too (exit 2). Info findings never fail.',
  ],
  examples: [
    ['weft lint -f rules.yaml', 'check a file'],
    ['weft rule-get | weft lint -f -', 'check the live rules'],
    ['weft lint -f a.yaml -f b.json --strict -o json', 'in CI'],
  ],
  flags: [
    {
      name: 'file',
      short: 'f',
      type: 'string',
      multiple: true,
      placeholder: '<file>|-',
      description: 'A rules file; - reads standard input (at least one)',
    },
    { name: 'strict', type: 'boolean', description: 'Warnings fail too' },
    ...OUTPUT_FLAGS,
  ],
  remote: false,
  async run(op) {
    const format = outputFormat(op.args.values, 'table');
    const files = [...listFlag(op.args.values, 'file'), ...op.args.positionals];
    if (files.length === 0) throw new UsageError('which rules? weft lint -f <file> (- for standard input)');
    const { lint } = await import('@weft/core');
    const findings: { file: string; severity: string; code: string; rule: string; path: string; message: string }[] =
      [];
    for (const file of files) {
      const { doc, name } = await readRulesInput(file, op.cli.cwd);
      for (const f of lint(doc))
        findings.push({
          file: name,
          severity: f.severity,
          code: f.code,
          rule: f.rule?.id ?? '',
          path: f.path,
          message: f.message,
        });
    }
    const failing = findings.filter(
      (f) => f.severity === 'error' || (op.args.values.strict === true && f.severity === 'warning'),
    );
    if (format !== 'table') op.out(await serialize(findings, format));
    else if (findings.length === 0) op.note(`no findings in ${files.join(', ')}`);
    else
      op.out(
        renderTable(
          ['Severity', 'File', 'Path', 'Rule', 'Message'],
          findings.map((f) => [f.severity, f.file, f.path, f.rule, f.message]),
          op.color,
        ),
      );
    return failing.length > 0 ? EXIT.usage : EXIT.ok;
  },
});
