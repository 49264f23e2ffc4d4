import type { Command } from '../command.js';
import { opCommand } from './command.js';
import { OUTPUT_FLAGS } from './common-flags.js';
import { UsageError } from './errors.js';
import { outputFormat, serialize } from './output.js';
import { renderTable } from './table.js';
import { listInstances, tagsToVersion } from './versions.js';

/** `weft service-list`: the registry's services and how many instances each version has. */
export const serviceListCommand: Command = opCommand({
  name: 'service-list',
  summary: 'list the services in the registry, with their instances per version (a8ctl)',
  usage: '[-o table|json|yaml]',
  description: [
    'Lists every service the registry knows, with the number of its instances per version — a version being the instance tags joined by "," (tags [v1] → v1, [version=v2] → version=v2), as in a8ctl — and per status when some are not UP.',
  ],
  examples: [
    ['weft service-list', 'the table'],
    ['weft service-list -o json', 'for a script: [{service, instances: ["v1(2)", …]}]'],
  ],
  flags: OUTPUT_FLAGS,
  remote: true,
  async run(op) {
    const format = outputFormat(op.args.values, 'table');
    if (op.args.positionals.length > 0) throw new UsageError(`unexpected argument '${op.args.positionals[0]}'`);
    const byService = new Map<string, Map<string, number>>();
    const notUp = new Map<string, number>();
    for (const instance of await listInstances(op.registry)) {
      const versions = byService.get(instance.service_name) ?? new Map<string, number>();
      const version = tagsToVersion(instance.tags);
      versions.set(version, (versions.get(version) ?? 0) + 1);
      byService.set(instance.service_name, versions);
      if (instance.status !== undefined && instance.status !== 'UP')
        notUp.set(instance.service_name, (notUp.get(instance.service_name) ?? 0) + 1);
    }
    // a8ctl's shape, `instances: ["v1(2)"]`, plus the counts as numbers for scripts that add them up.
    const list = [...byService]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([service, versions]) => ({
        service,
        instances: [...versions].sort().map(([v, n]) => `${v}(${n})`),
        versions: Object.fromEntries([...versions].sort()),
        notUp: notUp.get(service) ?? 0,
      }));
    if (format !== 'table') return void op.out(await serialize(list, format));
    if (list.length === 0) return void op.note('no services registered');
    op.out(
      renderTable(
        ['Service', 'Instances', 'Not up'],
        list.map((s) => [s.service, s.instances.join(', '), s.notUp === 0 ? '' : String(s.notUp)]),
        op.color,
      ),
    );
  },
});
