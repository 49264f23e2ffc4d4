import type { Command } from '../command.js';
import { abortTransfer } from './canary-step.js';
import { opCommand } from './command.js';
import { UsageError } from './errors.js';

/** `weft traffic-abort <service>`: ends a canary, all traffic back to the default version. */
export const trafficAbortCommand: Command = opCommand({
  name: 'traffic-abort',
  summary: 'abort a traffic transfer: all traffic back to the old version (a8ctl)',
  usage: '<service>',
  description: [
    'Ends a transfer traffic-start began: the new version is taken out of the default rule, and all the traffic it had goes back to the default version. Exit 4 when no transfer is in progress.',
  ],
  examples: [['weft traffic-abort reviews', 'v2 misbehaves: back to v1']],
  flags: [],
  remote: true,
  async run(op) {
    const [service, extra] = op.args.positionals;
    if (service === undefined) throw new UsageError('which service? weft traffic-abort <service>');
    if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
    await abortTransfer(op, service, '');
  },
});
