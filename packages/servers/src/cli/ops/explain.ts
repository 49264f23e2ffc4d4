import type { Command } from '../command.js';
import { opCommand } from './command.js';
import { headerFlags, stringFlag } from './common-flags.js';
import { UsageError } from './errors.js';
import { outputFormat, serialize } from './output.js';
import { listInstances, sourceMatch, splitService } from './versions.js';
import type { WireInstance } from './wire.js';

/** `weft explain <service>`: which rule a request would get, and why, over the live rules. */
export const explainCommand: Command = opCommand({
  name: 'explain',
  summary: 'explain which route and action rules a request to a service would get, and why',
  usage:
    '<service> [-H <Name: value>]… [--source <service[:version]>] [--method <m>] [--path <p>] [--seed <n>] [-o json|yaml]',
  description: [
    "Asks the controller (POST /v1/rules/explain) how a proxy would handle the request described, with the rules in force: each rule tried in order, whether it matched and, if not, which condition failed and on what value; the backend chosen, the actions that would apply. Nothing is sent to the service. The source's version is resolved against the registry as route-set resolves it (v2 → version=v2 when instances are tagged so).",
    '--seed makes the weighted draw reproducible; without it the draw is random, as in a proxy. Prints the explanation as text, or the whole answer with -o json / -o yaml.',
  ],
  examples: [
    ["weft explain reviews -H 'Cookie: user=jason' --source productpage:v1", "why jason gets (or doesn't get) v2"],
    ['weft explain ratings --source reviews:v2 -o json', 'the full explanation'],
  ],
  flags: [
    {
      name: 'header',
      short: 'H',
      type: 'string',
      multiple: true,
      placeholder: "'Name: value'",
      description: 'A request header',
    },
    {
      name: 'source',
      type: 'string',
      placeholder: '<service[:version]>',
      description: 'The calling service (and its version)',
    },
    {
      name: 'method',
      short: 'X',
      type: 'string',
      placeholder: '<method>',
      description: 'The request method (default GET)',
    },
    {
      name: 'path',
      type: 'string',
      placeholder: '<path>',
      description: 'The request path, may carry ?query (default /)',
    },
    { name: 'seed', type: 'string', placeholder: '<integer>', description: 'Seed of the weighted draw' },
    {
      name: 'output',
      short: 'o',
      type: 'string',
      placeholder: 'text|json|yaml',
      description: 'Text for people (default), or JSON or YAML',
    },
  ],
  remote: true,
  async run(op) {
    const format = outputFormat(op.args.values, 'table');
    const [destination, extra] = op.args.positionals;
    if (destination === undefined) throw new UsageError('which service? weft explain <service> [-H "Name: value"]…');
    if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
    const headers: Record<string, string[]> = {};
    for (const [name, value] of headerFlags(op.args.values)) headers[name] = [...(headers[name] ?? []), value];
    const seedText = stringFlag(op.args.values, 'seed');
    if (seedText !== undefined && !/^-?\d+$/.test(seedText))
      throw new UsageError(`--seed must be an integer (got '${seedText}')`);
    const sourceText = stringFlag(op.args.values, 'source');
    let source: { name: string; tags?: string[] } | undefined;
    if (sourceText !== undefined) {
      // The registry only refines the source's tags: without it, they are taken as typed.
      let instances: WireInstance[] = [];
      if (splitService(sourceText).version !== undefined)
        instances = await listInstances(op.registry, splitService(sourceText).name).catch((err: unknown) => {
          op.note(`note: ${err instanceof Error ? err.message : String(err)}; taking the source's tags as typed`);
          return [];
        });
      source = sourceMatch(sourceText, instances);
    }
    const method = stringFlag(op.args.values, 'method');
    const path = stringFlag(op.args.values, 'path');
    const answer = await op.controller.request('POST', '/v1/rules/explain', {
      body: {
        destination,
        ...(source === undefined ? {} : { source }),
        ...(method === undefined ? {} : { method }),
        ...(path === undefined ? {} : { path }),
        headers,
        ...(seedText === undefined ? {} : { seed: Number(seedText) }),
      },
    });
    if (format !== 'table') {
      op.out(await serialize(answer.body, format));
      return;
    }
    const text = (answer.body as { text?: unknown } | undefined)?.text;
    op.out(typeof text === 'string' ? `${text.trimEnd()}\n` : await serialize(answer.body, 'yaml'));
  },
});
