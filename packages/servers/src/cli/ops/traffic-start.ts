import type { Command } from '../command.js';
import { parseAmount, readSplitRule, toWeight, writeSplitRule } from './canary.js';
import { opCommand } from './command.js';
import { stringFlag } from './common-flags.js';
import { ConflictError, NotFoundError, UsageError } from './errors.js';
import { hasInstanceWith, listInstances, resolveTags, tagsToVersion } from './versions.js';

/** `weft traffic-start <service> <version> [--amount 10]`: begins a canary. */
export const trafficStartCommand: Command = opCommand({
  name: 'traffic-start',
  summary: 'start shifting traffic of a service to a new version: a canary (a8ctl)',
  usage: '<service> <version> [--amount <percent>]',
  description: [
    "Sends --amount percent (default 10) of the service's traffic to the new version, the rest to its default version, by adding the version to the service's default route rule (the one route-set --default writes; selectors with conditions stay in force). --amount 100 switches all of it at once.",
    'It refuses (exit 4) when traffic is already being split, or when no instance of the default version is registered; and (exit 3) when the service has no routing rules or no instance carries the new version. The rule is written only if the rules did not change since they were read.',
  ],
  examples: [
    ['weft traffic-start reviews v2', '10 % to v2'],
    ['weft traffic-start reviews v2 --amount 25', '25 %'],
    ['weft traffic-step reviews', 'then +10 % at a time'],
  ],
  flags: [
    {
      name: 'amount',
      type: 'string',
      placeholder: '<percent>',
      description: 'Share of the traffic for the new version, 1..100 (default 10)',
    },
  ],
  remote: true,
  async run(op) {
    const [service, version, extra] = op.args.positionals;
    if (service === undefined || version === undefined)
      throw new UsageError('give the service and the new version: weft traffic-start <service> <version>');
    if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
    const amount = parseAmount(stringFlag(op.args.values, 'amount'), 1) ?? 10;

    const split = await readSplitRule(op, service);
    const [base] = split.backends;
    if (split.backends.length !== 1 || base === undefined || base.weight !== undefined)
      throw new ConflictError(
        `traffic of ${service} is already being split (${split.backends.map((b) => `${tagsToVersion(b.tags)}${b.weight === undefined ? '' : ` ${Math.round(b.weight * 100)}%`}`).join(', ')}): step it with weft traffic-step ${service}, or end it with weft traffic-abort ${service}`,
      );
    const instances = await listInstances(op.registry, service);
    const from = tagsToVersion(base.tags);
    if (!hasInstanceWith(instances, base.tags ?? []))
      throw new ConflictError(
        `${service} is not currently receiving traffic: no registered instance carries its default version ${from}`,
      );
    const tags = resolveTags(version, instances);
    const to = tagsToVersion(tags);
    if (to === from) throw new UsageError(`${to} is already the default version of ${service}`);
    if (!hasInstanceWith(instances, tags))
      throw new NotFoundError(
        `${service} has no registered instance of version ${to}: start them first (weft service-list shows what is registered)`,
      );

    const canary = { ...base, tags };
    await writeSplitRule(op, split, amount === 100 ? [canary] : [{ ...canary, weight: toWeight(amount) }, base]);
    op.out(
      amount === 100
        ? `Transfer complete for ${service}: sending 100% of traffic to ${to}\n`
        : `Transfer starting for ${service}: diverting ${amount}% of traffic from ${from} to ${to}\n`,
    );
  },
});
