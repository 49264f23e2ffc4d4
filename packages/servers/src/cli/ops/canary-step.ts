import { readSplitRule, toWeight, transferInProgress, writeSplitRule } from './canary.js';
import type { OpContext } from './command.js';
import { tagsToVersion } from './versions.js';

/** The canary's current share in percent. */
export async function currentShare(op: OpContext, service: string): Promise<number> {
  const { canary } = transferInProgress(service, await readSplitRule(op, service));
  return Math.round((canary.weight ?? 0) * 100);
}

/** The tags of the transfer's canary backend (what the proxies label its calls with). */
export async function canaryOf(op: OpContext, service: string): Promise<readonly string[]> {
  return transferInProgress(service, await readSplitRule(op, service)).canary.tags ?? [];
}

/**
 * Moves the transfer in progress to `amount` percent (100 completes it: the canary becomes the
 * default) and prints a8ctl's message. The rules are read afresh, so a change made meanwhile is
 * seen (no transfer any more: exit 4) instead of overwritten.
 */
export async function stepTransfer(op: OpContext, service: string, amount: number): Promise<void> {
  const split = await readSplitRule(op, service);
  const { canary, base } = transferInProgress(service, split);
  const to = tagsToVersion(canary.tags);
  if (amount >= 100) {
    const { weight: _, ...rest } = canary;
    await writeSplitRule(op, split, [rest]);
    op.out(`Transfer complete for ${service}: sending 100% of traffic to ${to}\n`);
    return;
  }
  await writeSplitRule(op, split, [{ ...canary, weight: toWeight(amount) }, base]);
  op.out(`Transfer step for ${service}: diverting ${amount}% of traffic from ${tagsToVersion(base.tags)} to ${to}\n`);
}

/** Ends the transfer in progress: all traffic back to the default version (traffic-abort). */
export async function abortTransfer(op: OpContext, service: string, why: string): Promise<void> {
  const split = await readSplitRule(op, service);
  const { base } = transferInProgress(service, split);
  await writeSplitRule(op, split, [base]);
  op.out(`Transfer aborted for ${service}${why}: all traffic reverted to ${tagsToVersion(base.tags)}\n`);
}
