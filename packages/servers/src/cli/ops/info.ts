import type { Command } from '../command.js';
import { opCommand } from './command.js';
import { OUTPUT_FLAGS } from './common-flags.js';
import type { Endpoint } from './endpoints.js';
import { UsageError } from './errors.js';
import { outputFormat, serialize } from './output.js';
import { renderTable } from './table.js';

/** A token is a secret: `info` says whether one is set and where from, never what it is. */
const tokenState = (e: Endpoint): string => (e.token === undefined ? 'not set' : `set (${e.token.length} characters)`);

/** `weft info`: where the operator commands will go, and why. */
export const infoCommand: Command = opCommand({
  name: 'info',
  summary: 'show the controller and registry the operator commands use, and where each setting came from (a8ctl)',
  usage: '[-o table|json|yaml]',
  description: [
    'Prints the controller and registry URLs, whether a token is set for each (never the token), and where each came from: a flag, WEFT_* or A8_* environment variable, or the default (the control plane on http://127.0.0.1:8080). It contacts nothing: weft status checks the servers.',
  ],
  examples: [
    ['weft info', 'the table'],
    ['A8_CONTROLLER_URL=http://ctl:31200 weft info -o json', 'a8ctl settings are read too'],
  ],
  flags: OUTPUT_FLAGS,
  remote: true,
  async run(op) {
    const format = outputFormat(op.args.values, 'table');
    if (op.args.positionals.length > 0) throw new UsageError(`unexpected argument '${op.args.positionals[0]}'`);
    const { controller, registry, namespace, debug } = op.endpoints;
    const rows = [
      { setting: 'controller URL', value: controller.url, from: controller.urlFrom },
      { setting: 'controller token', value: tokenState(controller), from: controller.tokenFrom ?? '' },
      { setting: 'registry URL', value: registry.url, from: registry.urlFrom },
      { setting: 'registry token', value: tokenState(registry), from: registry.tokenFrom ?? '' },
      {
        setting: 'namespace',
        value: namespace === undefined ? 'not sent' : `${namespace.name} (header ${namespace.header})`,
        from: namespace?.from ?? '',
      },
      { setting: 'debug', value: String(debug), from: '' },
    ];
    if (format !== 'table') {
      op.out(
        await serialize(
          {
            controller: { url: controller.url, urlFrom: controller.urlFrom, token: controller.token !== undefined },
            registry: { url: registry.url, urlFrom: registry.urlFrom, token: registry.token !== undefined },
            ...(namespace === undefined ? {} : { namespace }),
            debug,
          },
          format,
        ),
      );
      return;
    }
    op.out(
      renderTable(
        ['Setting', 'Value', 'From'],
        rows.map((r) => [r.setting, r.value, r.from]),
        op.color,
      ),
    );
  },
});
