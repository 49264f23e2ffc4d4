import type { Command } from '../command.js';
import { opCommand } from './command.js';
import { UsageError } from './errors.js';
import { deleteOfKind } from './route-delete.js';
import { servicesOf } from './wire.js';

/** `weft action-clear <service>` (or `--all`). */
export const actionClearCommand: Command = opCommand({
  name: 'action-clear',
  summary: "delete a destination's action (fault injection) rules (a8ctl)",
  usage: '<service> | --all',
  description: [
    'Deletes every action rule of the destination service, or of every service with --all. Clearing a destination without action rules is not an error.',
  ],
  examples: [
    ['weft action-clear ratings', 'no more faults injected into ratings'],
    ['weft action-clear --all', 'none anywhere'],
  ],
  flags: [{ name: 'all', short: 'a', type: 'boolean', description: 'Every destination' }],
  remote: true,
  async run(op) {
    const all = op.args.values.all === true;
    const [service, extra] = op.args.positionals;
    if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
    if (all === (service !== undefined)) throw new UsageError('give a service, or --all (not both)');
    const services =
      service === undefined ? [...servicesOf((await op.controller.get('/v1/rules/actions')).body).keys()] : [service];
    let removed = 0;
    for (const s of services) removed += await deleteOfKind(op, 'actions', s);
    if (removed === 0) op.note(all ? 'there were no action rules' : `${service} had no action rules`);
    op.out(
      all ? 'Cleared action rules from all microservices\n' : `Cleared action rules for microservice ${service}\n`,
    );
  },
});
