import type { Command } from '../command.js';
import { opCommand } from './command.js';
import { listFlag, OUTPUT_FLAGS } from './common-flags.js';
import { UsageError } from './errors.js';
import { outputFormat, serialize } from './output.js';
import { routeSummary } from './routes.js';
import { renderTable } from './table.js';
import { listInstances } from './versions.js';
import { servicesOf } from './wire.js';

/** `weft route-list`: each service's default version and version selectors. */
export const routeListCommand: Command = opCommand({
  name: 'route-list',
  summary: "list each service's default version and version selectors (a8ctl)",
  usage: '[-s <service>]… [-o table|json|yaml]',
  description: [
    'Shows the route rules of every service in a8ctl\'s terms: the default version (what requests no selector picks go to) and the selectors, in the order a proxy tries them — v2(user="jason"), v2(header="Foo:bar"), v3(weight=0.25). Services that are registered but have no route rules are listed without a default: their requests go to any instance.',
  ],
  examples: [
    ['weft route-list', 'every service'],
    ['weft route-list -s reviews -o json', '[{service, default, selectors}] for a script'],
  ],
  flags: [
    ...OUTPUT_FLAGS,
    {
      name: 'service',
      short: 's',
      type: 'string',
      multiple: true,
      placeholder: '<name>',
      description: 'Only these services',
    },
  ],
  remote: true,
  async run(op) {
    const format = outputFormat(op.args.values, 'table');
    if (op.args.positionals.length > 0) throw new UsageError(`unexpected argument '${op.args.positionals[0]}'`);
    const only = listFlag(op.args.values, 'service');
    const answer = await op.controller.get('/v1/rules/routes', {
      query: only.length === 0 ? {} : { destination: only },
    });
    const routes = servicesOf(answer.body);
    const registered = new Set((await listInstances(op.registry)).map((i) => i.service_name));
    const names = [...new Set([...routes.keys(), ...registered])]
      .filter((n) => only.length === 0 || only.includes(n))
      .sort();
    const list = names.map((service) => {
      const summary = routeSummary(routes.get(service) ?? []);
      return {
        service,
        ...(summary.default === undefined ? {} : { default: summary.default }),
        ...(summary.selectors.length === 0 ? {} : { selectors: summary.selectors }),
      };
    });
    if (format !== 'table') {
      op.out(await serialize(list, format));
      return;
    }
    if (list.length === 0) {
      op.note('no route rules and no registered services');
      return;
    }
    op.out(
      renderTable(
        ['Service', 'Default version', 'Version selectors'],
        list.map((s) => [s.service, s.default ?? '', (s.selectors ?? []).join(', ')]),
        op.color,
      ),
    );
  },
});
