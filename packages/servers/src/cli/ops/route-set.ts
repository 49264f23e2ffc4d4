import type { Command } from '../command.js';
import { opCommand } from './command.js';
import { listFlag, stringFlag } from './common-flags.js';
import { UsageError } from './errors.js';
import { type ResolvedSelector, routeSetRules } from './routes.js';
import { parseSelector } from './selectors.js';
import { listInstances, resolveTags, sourceMatch } from './versions.js';
import { printWarnings } from './warnings.js';

/** `weft route-set <service> --default v1 --selector …`: replaces a service's route rules. */
export const routeSetCommand: Command = opCommand({
  name: 'route-set',
  summary: "set a service's version routing: a default version and selectors (a8ctl)",
  usage: '<service> --default <version> [--selector <version(condition)>]… [--source <service[:version]>]',
  description: [
    'Replaces every route rule of the service with a8ctl\'s: requests go to the default version, except those a selector picks. A selector is version(condition): weight=0.25 sends that share of the requests to the version; user="jason" the requests with the cookie user=jason; header="Foo:bar" those whose Foo header matches the regex bar; cookie="name=value" another cookie. Conditions combine inside one selector: v2(user="jason",weight=0.5). Selectors with conditions are tried first, in the order given.',
    'A version is tags joined by ",". A bare tag no instance carries, when instances carry version=<tag>, means that (v1 → version=v1), so both tagging conventions work; version=v1 is always taken as written. Warnings from the controller (a version no instance has) are printed on standard error.',
  ],
  examples: [
    ['weft route-set reviews --default v1', 'all of reviews to v1'],
    ["weft route-set reviews --default v1 --selector 'v2(weight=0.25)'", '25 % to v2'],
    ['weft route-set reviews --default v1 --selector \'v2(user="jason")\'', 'jason to v2'],
    ['weft route-set reviews --default v1 --selector \'v2(header="Foo:bar")\'', 'a header to v2'],
    ["weft route-set ratings --default v1 --source reviews:v2 --selector 'v2(weight=0.5)'", 'for one caller only'],
  ],
  flags: [
    {
      name: 'default',
      type: 'string',
      placeholder: '<version>',
      description: 'The version requests go to when no selector applies (required)',
    },
    {
      name: 'selector',
      type: 'string',
      multiple: true,
      placeholder: '<version(condition)>',
      description: 'A version and when it applies: weight=0.25, user="jason", header="Name:regex", cookie="name=value"',
    },
    {
      name: 'source',
      type: 'string',
      placeholder: '<service[:version]>',
      description: 'Apply the selectors to requests from this service (and version) only',
    },
  ],
  remote: true,
  async run(op) {
    const [service, extra] = op.args.positionals;
    if (service === undefined) throw new UsageError('which service? weft route-set <service> --default <version>');
    if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
    const defaultVersion = stringFlag(op.args.values, 'default');
    if (defaultVersion === undefined) throw new UsageError('--default <version> is required');
    const selectors = listFlag(op.args.values, 'selector').map(parseSelector);
    const total = selectors.filter((s) => s.match === undefined).reduce((sum, s) => sum + (s.weight ?? 0), 0);
    if (total >= 1)
      throw new UsageError(`the weights of the selectors add up to ${total}: they must leave a share for the default`);
    const sourceText = stringFlag(op.args.values, 'source');

    const instances = await listInstances(op.registry);
    const own = instances.filter((i) => i.service_name === service);
    const resolved: ResolvedSelector[] = selectors.map((s) => ({ ...s, tags: resolveTags(s.version, own) }));
    const source = sourceText === undefined ? undefined : sourceMatch(sourceText, instances);
    const rules = routeSetRules(service, resolveTags(defaultVersion, own), resolved, source);
    const answer = await op.controller.request('PUT', `/v1/rules/routes/${encodeURIComponent(service)}`, {
      body: { rules },
    });
    printWarnings(op, answer.body);
    op.out(`Set routing rules for microservice ${service}\n`);
  },
});
