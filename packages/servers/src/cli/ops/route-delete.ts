import type { Command } from '../command.js';
import { type OpContext, opCommand } from './command.js';
import { UsageError } from './errors.js';

/** Deletes every rule of one kind of a destination: `route-delete` and `action-clear`. */
export async function deleteOfKind(op: OpContext, kind: 'routes' | 'actions', service: string): Promise<number> {
  const answer = await op.controller.request('DELETE', `/v1/rules/${kind}/${encodeURIComponent(service)}`);
  const removed = (answer.body as { removed?: unknown } | undefined)?.removed;
  return Array.isArray(removed) ? removed.length : 0;
}

/** `weft route-delete <service>`. */
export const routeDeleteCommand: Command = opCommand({
  name: 'route-delete',
  summary: "delete a service's version routing rules (a8ctl)",
  usage: '<service>',
  description: [
    'Deletes every route rule of the service: its requests then go to any of its instances. Deleting rules a service does not have is not an error (a script can run it twice).',
  ],
  examples: [['weft route-delete reviews', 'back to every instance of reviews']],
  flags: [],
  remote: true,
  async run(op) {
    const [service, extra] = op.args.positionals;
    if (service === undefined) throw new UsageError('which service? weft route-delete <service>');
    if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
    const n = await deleteOfKind(op, 'routes', service);
    if (n === 0) op.note(`${service} had no routing rules`);
    op.out(`Deleted routing rules for microservice ${service}\n`);
  },
});
