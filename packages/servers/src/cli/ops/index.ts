import type { Command } from '../command.js';
import { actionAddCommand } from './action-add.js';
import { actionClearCommand } from './action-clear.js';
import { actionListCommand } from './action-list.js';
import { authzClearCommand, authzExplainCommand, authzGetCommand, authzSetCommand } from './authz.js';
import { explainCommand } from './explain.js';
import { infoCommand } from './info.js';
import { lintCommand } from './lint.js';
import { recipeRunCommand } from './recipe-run.js';
import { routeDeleteCommand } from './route-delete.js';
import { routeListCommand } from './route-list.js';
import { routeSetCommand } from './route-set.js';
import { ruleDeleteCommand } from './rule-delete.js';
import { ruleGetCommand } from './rule-get.js';
import { ruleCreateCommand, ruleUpdateCommand } from './rule-write.js';
import { serviceListCommand } from './service-list.js';
import { statusCommand } from './status.js';
import { trafficAbortCommand } from './traffic-abort.js';
import { trafficStartCommand } from './traffic-start.js';
import { trafficStepCommand } from './traffic-step.js';

/**
 * The operator commands: a8ctl's set under a8ctl's names, so an Amalgam8 user's scripts keep
 * running, then Weft's own. They talk to a running control plane (lint excepted).
 */
export const OPERATOR_COMMANDS: readonly Command[] = [
  serviceListCommand,
  routeListCommand,
  routeSetCommand,
  routeDeleteCommand,
  actionListCommand,
  actionAddCommand,
  actionClearCommand,
  ruleCreateCommand,
  ruleUpdateCommand,
  ruleGetCommand,
  ruleDeleteCommand,
  trafficStartCommand,
  trafficStepCommand,
  trafficAbortCommand,
  recipeRunCommand,
  authzGetCommand,
  authzSetCommand,
  authzClearCommand,
  authzExplainCommand,
  infoCommand,
  explainCommand,
  lintCommand,
  statusCommand,
];
