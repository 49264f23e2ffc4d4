import type { CommandGroup } from './command.js';
import { completionCommand } from './completion.js';
import { OPERATOR_COMMANDS } from './ops/index.js';
import { controllerCommand, controlPlaneCommand, registryCommand } from './server-commands.js';
import { gatewayAgentCommand, sidecarAgentCommand } from './sidecar-command.js';

/**
 * Every command, in the groups `weft --help` shows. Later commands join here, each a `Command`
 * in its own file: `sidecar` (and `gateway`) under "Servers", and an "Operator commands" group
 * for a8ctl's set (`service-list`, `route-list`, `route-set`, `action-add`, `rule-get`, …), which
 * talk to a running control plane. Until they exist, `weft sidecar` is an unknown command: no
 * stub answers in their place.
 */
export const COMMAND_GROUPS: readonly CommandGroup[] = [
  { title: 'Servers', commands: [controlPlaneCommand, registryCommand, controllerCommand] },
  { title: 'Sidecar', commands: [sidecarAgentCommand, gatewayAgentCommand] },
  { title: 'Operator commands (talk to a running control plane)', commands: OPERATOR_COMMANDS },
  { title: 'Shell', commands: [completionCommand(() => COMMAND_GROUPS)] },
];
