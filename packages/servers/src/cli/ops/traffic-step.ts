import type { Command } from '../command.js';
import { parseAmount, readSplitRule, toWeight, transferInProgress, writeSplitRule } from './canary.js';
import { opCommand } from './command.js';
import { stringFlag } from './common-flags.js';
import { UsageError } from './errors.js';
import { tagsToVersion } from './versions.js';

/** `weft traffic-step <service> [--amount N]`: moves a canary on. */
export const trafficStepCommand: Command = opCommand({
  name: 'traffic-step',
  summary: 'shift more traffic of a service to its canary version (a8ctl)',
  usage: '<service> [--amount <percent>]',
  description: [
    "Raises the new version's share of a transfer traffic-start began: to --amount percent, or by 10 points. At 100 the transfer is complete: the new version becomes the default and the old one gets nothing. Exit 4 when no transfer is in progress.",
  ],
  examples: [
    ['weft traffic-step reviews', '+10 %'],
    ['weft traffic-step reviews --amount 50', 'to 50 %'],
    ['weft traffic-step reviews --amount 100', 'finish: all to the new version'],
  ],
  flags: [
    {
      name: 'amount',
      type: 'string',
      placeholder: '<percent>',
      description: 'The new share, 1..100 (default: the current one + 10)',
    },
  ],
  remote: true,
  async run(op) {
    const [service, extra] = op.args.positionals;
    if (service === undefined) throw new UsageError('which service? weft traffic-step <service>');
    if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
    const asked = parseAmount(stringFlag(op.args.values, 'amount'), 1);
    const split = await readSplitRule(op, service);
    const { canary, base } = transferInProgress(service, split);
    const amount = Math.min(100, asked ?? Math.round((canary.weight ?? 0) * 100) + 10);
    const to = tagsToVersion(canary.tags);
    if (amount >= 100) {
      const { weight: _, ...rest } = canary;
      await writeSplitRule(op, split, [rest]);
      op.out(`Transfer complete for ${service}: sending 100% of traffic to ${to}\n`);
      return;
    }
    await writeSplitRule(op, split, [{ ...canary, weight: toWeight(amount) }, base]);
    op.out(`Transfer step for ${service}: diverting ${amount}% of traffic from ${tagsToVersion(base.tags)} to ${to}\n`);
  },
});
