import type { Command } from '../command.js';
import { parseAmount } from './canary.js';
import { currentShare, stepTransfer } from './canary-step.js';
import { opCommand } from './command.js';
import { stringFlag } from './common-flags.js';
import { UsageError } from './errors.js';
import { watchTransfer } from './traffic-watch.js';
import { readWatchPlan, WATCH_FLAGS, watchFlagGiven } from './traffic-watch-flags.js';

/** `weft traffic-step <service> [--amount N] [--watch …]`: moves a canary on. */
export const trafficStepCommand: Command = opCommand({
  name: 'traffic-step',
  summary: 'shift more traffic of a service to its canary version (a8ctl); --watch: step by step on live metrics',
  usage: '<service> [--amount <percent>] [--watch --metrics-url <url>… [--max-error-rate 5%] [--max-p99 500ms]]',
  description: [
    "Raises the new version's share of a transfer traffic-start began: to --amount percent, or by 10 points. At 100 the transfer is complete: the new version becomes the default and the old one gets nothing. Exit 4 when no transfer is in progress.",
    "With --watch it steps repeatedly towards --amount (default 100): it reads the proxies' Prometheus metrics (a sidecar's admin /metrics, --metrics-url, repeatable) for --interval, prints the canary's calls in that window and the whole service's (requests, 5xx error rate, p50 and p99 from the latency histograms), and steps by 10 points (or in --steps equal steps) if the canary stayed within --max-error-rate and --max-p99. A window past a threshold aborts the transfer as traffic-abort does and exits 5; Ctrl-C stops watching and leaves the transfer as it is (exit 130).",
  ],
  examples: [
    ['weft traffic-step reviews', '+10 %'],
    ['weft traffic-step reviews --amount 50', 'to 50 %'],
    ['weft traffic-step reviews --amount 100', 'finish: all to the new version'],
    [
      'weft traffic-step reviews --watch --metrics-url http://127.0.0.1:8082/metrics --max-error-rate 2% --max-p99 300ms --interval 1m',
      'to 100 % by 10 points a minute, unless it fails',
    ],
  ],
  flags: [
    {
      name: 'amount',
      type: 'string',
      placeholder: '<percent>',
      description:
        'The new share, 1..100 (default: the current one + 10); with --watch, the share to reach (default 100)',
    },
    ...WATCH_FLAGS,
  ],
  remote: true,
  async run(op): Promise<number> {
    const [service, extra] = op.args.positionals;
    if (service === undefined) throw new UsageError('which service? weft traffic-step <service>');
    if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
    const asked = parseAmount(stringFlag(op.args.values, 'amount'), 1);
    if (op.args.values.watch === true) return watchTransfer(op, readWatchPlan(op.args.values, service, asked));
    const given = watchFlagGiven(op.args.values);
    if (given !== undefined) throw new UsageError(`--${given} goes with --watch`);
    await stepTransfer(op, service, Math.min(100, asked ?? (await currentShare(op, service)) + 10));
    return 0;
  },
});
