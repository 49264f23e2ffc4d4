import type { Command } from '../command.js';
import { opCommand } from './command.js';
import { OUTPUT_FLAGS } from './common-flags.js';
import { EXIT, UsageError } from './errors.js';
import type { ApiClient } from './http.js';
import { outputFormat, serialize } from './output.js';
import { PROXY_TABLE_HEADERS, proxiesOf, proxyTableRows } from './status-proxies.js';
import { renderTable } from './table.js';
import { listInstances } from './versions.js';
import { rulesOf } from './wire.js';

/** `GET /health` of a server: `ok`, or why not (never throws: status reports, it does not fail on the first problem). */
async function health(client: ApiClient): Promise<string> {
  try {
    const answer = await client.get('/health', { accept: [503] });
    const body = answer.body as { status?: unknown; error?: unknown } | undefined;
    return answer.status === 200 ? 'ok' : `unavailable: ${String(body?.error ?? body?.status ?? answer.status)}`;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** `weft status`: is the control plane up, and what does it hold. */
export const statusCommand: Command = opCommand({
  name: 'status',
  summary: "the control plane's health, rules revision, and services and instances",
  usage: '[-o table|json|yaml]',
  description: [
    "Checks the controller's and the registry's health, and summarises what they hold: the rules revision (every change bumps it; proxies that are behind it are stale), the number of route and action rules, the services, and their instances by status. Exit 1 when a server is down or unreachable.",
    'Then the proxies each server has seen (sidecars and MeshAgents name themselves in `x-weft-proxy`): what each reads, over which transport, its revision against the current one, and STALE when it has been behind for more than 5 s, or has neither an open stream nor been seen for 75 s.',
  ],
  examples: [
    ['weft status', 'the table'],
    ['weft status -o json', 'for a monitoring script'],
  ],
  flags: OUTPUT_FLAGS,
  remote: true,
  async run(op) {
    const format = outputFormat(op.args.values, 'table');
    if (op.args.positionals.length > 0) throw new UsageError(`unexpected argument '${op.args.positionals[0]}'`);
    const [controllerHealth, registryHealth] = await Promise.all([health(op.controller), health(op.registry)]);
    const rules = controllerHealth === 'ok' ? await op.controller.get('/v1/rules') : undefined;
    const instances = registryHealth === 'ok' ? await listInstances(op.registry) : undefined;
    const [controllerProxies, registryProxies] = await Promise.all([
      controllerHealth === 'ok' ? proxiesOf(op.controller, '/v1/proxies') : undefined,
      registryHealth === 'ok' ? proxiesOf(op.registry, '/api/v1/proxies') : undefined,
    ]);
    const list = rules === undefined ? [] : rulesOf(rules.body);
    const byStatus: Record<string, number> = {};
    for (const i of instances ?? []) byStatus[i.status ?? 'UP'] = (byStatus[i.status ?? 'UP'] ?? 0) + 1;
    const status = {
      controller: {
        url: op.controller.url,
        health: controllerHealth,
        ...(rules === undefined
          ? {}
          : {
              revision: rules.revision,
              routeRules: list.filter((r) => r.route !== undefined).length,
              actionRules: list.filter((r) => r.route === undefined).length,
            }),
        ...(controllerProxies === undefined ? {} : { proxies: controllerProxies }),
      },
      registry: {
        url: op.registry.url,
        health: registryHealth,
        ...(instances === undefined
          ? {}
          : { services: new Set(instances.map((i) => i.service_name)).size, instances: byStatus }),
        ...(registryProxies === undefined ? {} : { proxies: registryProxies }),
      },
    };
    if (format !== 'table') op.out(await serialize(status, format));
    else {
      const c = status.controller;
      const r = status.registry;
      op.out(
        renderTable(
          ['Server', 'URL', 'Health', 'Holds'],
          [
            [
              'controller',
              c.url,
              c.health,
              'revision' in c
                ? `revision ${c.revision}, ${c.routeRules} route rules, ${c.actionRules} action rules`
                : '',
            ],
            [
              'registry',
              r.url,
              r.health,
              instances === undefined
                ? ''
                : `${status.registry.services} services, instances: ${
                    Object.entries(byStatus)
                      .map(([s, n]) => `${n} ${s}`)
                      .join(', ') || 'none'
                  }`,
            ],
          ],
          op.color,
        ),
      );
      const proxyRows = [
        ...proxyTableRows('controller', controllerProxies),
        ...proxyTableRows('registry', registryProxies),
      ];
      op.out(
        proxyRows.length === 0 ? '\nNo proxies seen.\n' : `\n${renderTable(PROXY_TABLE_HEADERS, proxyRows, op.color)}`,
      );
    }
    return controllerHealth === 'ok' && registryHealth === 'ok' ? EXIT.ok : EXIT.runtime;
  },
});
