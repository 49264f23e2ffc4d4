import type { Command } from '../command.js';
import { readEndpoints } from './endpoints.js';
import { exitCodeOf, OpsError, UsageError } from './errors.js';
import type { FlagSpec } from './flags.js';
import { parseFlags } from './flags.js';
import { opHelp } from './help.js';
import { ApiClient } from './http.js';
import type { OpContext, OpSpec } from './op-spec.js';
import { useColor } from './output.js';

export type { OpContext, OpSpec } from './op-spec.js';

/** The flags of every command that talks to the control plane. */
export const REMOTE_FLAGS: readonly FlagSpec[] = [
  {
    name: 'controller-url',
    type: 'string',
    placeholder: '<url>',
    description:
      "The rules controller, or its replicas' URLs comma-separated (env WEFT_CONTROLLER_URL, then A8_CONTROLLER_URL; default http://127.0.0.1:8080, the control plane)",
  },
  {
    name: 'registry-url',
    type: 'string',
    placeholder: '<url>',
    description:
      "The registry, or its replicas' URLs comma-separated (env WEFT_REGISTRY_URL, then A8_REGISTRY_URL; default http://127.0.0.1:8080, the control plane)",
  },
  {
    name: 'controller-token',
    type: 'string',
    placeholder: '<token>',
    description:
      'Bearer token for the controller (env WEFT_CONTROLLER_TOKEN, then A8_CONTROLLER_TOKEN; prefer the environment: a command line is visible to every user of the machine)',
  },
  {
    name: 'registry-token',
    type: 'string',
    placeholder: '<token>',
    description: 'Bearer token for the registry (env WEFT_REGISTRY_TOKEN, then A8_REGISTRY_TOKEN)',
  },
  {
    name: 'namespace',
    type: 'string',
    placeholder: '<name>',
    description:
      "The namespace (tenant) to act in, sent in the A8-Namespace header, as the control plane's admin auth mode asks (env WEFT_NAMESPACE, then A8_NAMESPACE; default: none sent, the credentials decide)",
  },
  {
    name: 'namespace-header',
    type: 'string',
    placeholder: '<header>',
    description:
      "The header --namespace goes in, when the control plane's auth.adminHeader is not A8-Namespace (env WEFT_NAMESPACE_HEADER)",
  },
  {
    name: 'debug',
    type: 'boolean',
    description: 'Print each request and answer on standard error (env WEFT_DEBUG, A8_DEBUG)',
  },
  // a8ctl 0.3's spellings of the same, so its users' scripts keep running.
  ...['a8-controller-url', 'a8-registry-url', 'a8-controller-token', 'a8-registry-token'].map(
    (name): FlagSpec => ({ name, type: 'string', description: '', hidden: true }),
  ),
];

/** What {@link opCommand} built: for runCli's leading flags and for shell completion. */
const built = new WeakMap<Command, { readonly remote: boolean; readonly flags: readonly FlagSpec[] }>();

/** Whether `command` talks to the control plane, so `weft --controller-url X <command>` may give it the flag. */
export const isRemoteCommand = (command: Command): boolean => built.get(command)?.remote === true;

/** Every flag an operator command takes (hidden ones too), or undefined for another command. */
export const operatorFlags = (command: Command): readonly FlagSpec[] | undefined => built.get(command)?.flags;

const HELP_FLAG: FlagSpec = { name: 'help', short: 'h', type: 'boolean', description: 'Show this help and exit' };

/**
 * Builds a `weft <name>` operator command: parses its flags (a usage error names the mistake and
 * exits 2), finds the servers, runs it, and turns its failure into one line and an exit code.
 */
export function opCommand(spec: OpSpec): Command {
  const flags = [...spec.flags, ...(spec.remote ? REMOTE_FLAGS : []), HELP_FLAG];
  const command: Command = {
    name: spec.name,
    summary: spec.summary,
    async run(argv, cli) {
      try {
        const args = parseFlags(argv, flags);
        if (args.values.help === true) {
          cli.stdout(opHelp(spec, flags));
          return 0;
        }
        const endpoints = readEndpoints(args.values, cli.env);
        const debug = endpoints.debug ? (line: string) => cli.stderr(`[debug] ${line}\n`) : undefined;
        const op: OpContext = {
          cli,
          args,
          endpoints,
          controller: new ApiClient('controller', endpoints.controller, debug, endpoints.namespace),
          registry: new ApiClient('registry', endpoints.registry, debug, endpoints.namespace),
          color: useColor(cli.env, process.stdout.isTTY === true),
          out: cli.stdout,
          note: (line) => cli.stderr(`${line}\n`),
        };
        return (await spec.run(op)) ?? 0;
      } catch (err) {
        // Known failures are one line; anything else is a bug, and runCli prints its stack.
        if (!(err instanceof UsageError || err instanceof OpsError)) throw err;
        const hint = err instanceof UsageError ? ` (see weft ${spec.name} --help)` : '';
        cli.stderr(`weft ${spec.name}: ${err.message}${hint}\n`);
        return exitCodeOf(err);
      }
    },
  };
  built.set(command, { remote: spec.remote, flags });
  return command;
}
