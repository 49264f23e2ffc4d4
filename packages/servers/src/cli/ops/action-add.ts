import type { Command } from '../command.js';
import { ANY_VERSION, parseAction } from './actions.js';
import { opCommand } from './command.js';
import { listFlag, stringFlag } from './common-flags.js';
import { UsageError } from './errors.js';
import { listInstances, resolveTags, sourceMatch } from './versions.js';
import { printWarnings } from './warnings.js';
import { rulesOf, type WireAction, type WireMatch, type WireRule } from './wire.js';

/** a8ctl put a new rule 10 above the highest of the destination's, starting at 10. */
function nextPriority(rules: readonly WireRule[]): number {
  return rules.reduce((p, r) => ((r.priority ?? 0) >= p ? (r.priority ?? 0) + 10 : p), 10);
}

/** `weft action-add`: a fault injection rule. */
export const actionAddCommand: Command = opCommand({
  name: 'action-add',
  summary: 'add an action (fault injection) rule (a8ctl)',
  usage:
    '--destination <service> (--source <service[:version]> | --header <Name:regex> | --cookie <name=value>)… --action <version(probability->action=value)>…',
  description: [
    'Adds an action rule for requests to the destination that come from the source and carry the headers and cookies given (all of them must match; at least one is required, so that a typo cannot inject faults into all traffic). Each --action is version(probability->delay=seconds | abort=status | trace=key:value): v1(1->delay=7) delays every such request to an instance of v1 by 7 s; v2(0.5->abort=400) answers half of those to v2 with 400 (-1 resets the connection); version * means any instance.',
    "The rule goes 10 above the highest priority of the destination's action rules (from 10), unless --priority says otherwise. --cookie user=jason matches the cookie exactly, wherever it is in the Cookie header (a8ctl wrote the regex .*?user=jason, which also matched user=jasonx).",
  ],
  examples: [
    [
      "weft action-add --source reviews:v2 --destination ratings --cookie user=jason --action 'v1(1->delay=7)'",
      "bookinfo's 7 s delay for jason",
    ],
    [
      "weft action-add --destination ratings --header 'X-Test:^yes$' --action 'v2(0.5->abort=400)'",
      'half the tagged requests fail',
    ],
  ],
  flags: [
    {
      name: 'destination',
      type: 'string',
      placeholder: '<service>',
      description: 'The service whose requests the rule acts on (required)',
    },
    {
      name: 'source',
      type: 'string',
      placeholder: '<service[:version]>',
      description: 'Only requests from this service (and version)',
    },
    {
      name: 'header',
      type: 'string',
      multiple: true,
      placeholder: '<Name:regex>',
      description: 'Only requests whose header matches the regex',
    },
    {
      name: 'cookie',
      type: 'string',
      multiple: true,
      placeholder: '<name=value>',
      description: 'Only requests that carry this cookie',
    },
    {
      name: 'action',
      type: 'string',
      multiple: true,
      placeholder: '<version(p->action=value)>',
      description: 'What to do: v1(1->delay=7), v2(0.5->abort=400), v1(1->trace=key:value) (at least one)',
    },
    {
      name: 'priority',
      type: 'string',
      placeholder: '<integer>',
      description: "The rule's priority (default: 10 above the highest)",
    },
  ],
  remote: true,
  async run(op) {
    if (op.args.positionals.length > 0) throw new UsageError(`unexpected argument '${op.args.positionals[0]}'`);
    const v = op.args.values;
    const destination = stringFlag(v, 'destination');
    const sourceText = stringFlag(v, 'source');
    const headerTexts = listFlag(v, 'header');
    const cookieTexts = listFlag(v, 'cookie');
    if (destination === undefined) throw new UsageError('--destination <service> is required');
    if (sourceText === undefined && headerTexts.length === 0 && cookieTexts.length === 0)
      throw new UsageError(
        'give at least one --source, --header or --cookie: a rule without them would act on every request',
      );
    const actions = listFlag(v, 'action').map(parseAction);
    if (actions.length === 0) throw new UsageError("give at least one --action, e.g. --action 'v1(1->delay=7)'");
    const priorityText = stringFlag(v, 'priority');
    const priority = priorityText === undefined ? undefined : Number(priorityText);
    if (priority !== undefined && !Number.isSafeInteger(priority))
      throw new UsageError(`--priority must be an integer (got '${priorityText}')`);
    const headers: Record<string, string> = {};
    for (const h of headerTexts) {
      const colon = h.indexOf(':');
      if (colon <= 0) throw new UsageError(`--header must be Name:regex (got '${h}')`);
      headers[h.slice(0, colon).trim()] = h.slice(colon + 1).trim();
    }
    const cookies: Record<string, { exact: string }> = {};
    for (const c of cookieTexts) {
      const eq = c.indexOf('=');
      if (eq <= 0) throw new UsageError(`--cookie must be name=value (got '${c}')`);
      cookies[c.slice(0, eq).trim()] = { exact: c.slice(eq + 1).trim() };
    }

    const instances = await listInstances(op.registry);
    const own = instances.filter((i) => i.service_name === destination);
    const match: WireMatch = {
      ...(sourceText === undefined ? {} : { source: sourceMatch(sourceText, instances) }),
      ...(headerTexts.length === 0 ? {} : { headers }),
      ...(cookieTexts.length === 0 ? {} : { cookies }),
    };
    const wireActions: WireAction[] = actions.map(({ version, action }) =>
      version === ANY_VERSION ? action : { ...action, tags: resolveTags(version, own) },
    );
    // Read the destination's rules for the priority, then add with If-Match on that revision, so
    // a rule another operator added meanwhile cannot end up with the same priority unnoticed.
    const current = await op.controller.get(`/v1/rules/actions/${encodeURIComponent(destination)}`);
    const rule: WireRule = {
      destination,
      priority: priority ?? nextPriority(rulesOf(current.body)),
      match,
      actions: wireActions,
    };
    const answer = await op.controller.request('POST', '/v1/rules', {
      body: { rules: [rule] },
      ifMatch: current.revision,
    });
    printWarnings(op, answer.body);
    const ids = (answer.body as { ids?: unknown } | undefined)?.ids;
    op.out(`Set action rule for destination ${destination}${Array.isArray(ids) ? ` (id ${String(ids[0])})` : ''}\n`);
  },
});
