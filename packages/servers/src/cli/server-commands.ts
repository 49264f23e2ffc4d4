import {
  ControllerConfigSchema,
  ControlPlaneConfigSchema,
  DEFAULT_PORTS,
  RegistryConfigSchema,
} from '../config/schemas.js';
import { serverCommand } from './server-command.js';

const AUTH_NOTE =
  'Out of the box it keeps everything in memory and asks for no credentials (auth mode none, one namespace), listening on 127.0.0.1 only. To serve other machines, give --host 0.0.0.0 together with an auth mode (trusted, jwt or admin), and a file store to keep state across restarts.';

/** `weft control-plane`: the registry and the controller in one process, on one port. */
export const controlPlaneCommand = serverCommand({
  name: 'control-plane',
  summary: `the registry and the rules controller in one process, on one port (default ${DEFAULT_PORTS['control-plane']})`,
  description: [
    'Serves the Amalgam8 registry API (/api/v1, instances and services, with watches) and the rules API (/v1/rules) on one port, behind one authentication chain, with GET /health. Sidecars and MeshAgent follow both live, through Server-Sent Events or long-polls.',
    AUTH_NOTE,
  ],
  schema: ControlPlaneConfigSchema,
  schemaFile: 'weft-control-plane.config.schema.json',
  async build(config, auth) {
    const { controlPlaneOptions } = await import('./server-options.js');
    const { createControlPlaneServer } = await import('../control-plane.js');
    return createControlPlaneServer(controlPlaneOptions(config, auth));
  },
});

/** `weft registry`: the service registry alone. */
export const registryCommand = serverCommand({
  name: 'registry',
  summary: `the service registry alone (Amalgam8 /api/v1; default port ${DEFAULT_PORTS.registry})`,
  description: [
    'Serves the Amalgam8 registry API: instances register with a TTL and heartbeat, clients list and watch services. Its default port is the one Amalgam8 published its registry on (A8_REGISTRY_URL).',
    AUTH_NOTE,
  ],
  schema: RegistryConfigSchema,
  schemaFile: 'weft-registry.config.schema.json',
  async build(config, auth) {
    const { registryOptions } = await import('./server-options.js');
    const { createRegistryServer } = await import('../registry/index.js');
    return createRegistryServer(registryOptions(config, auth));
  },
});

/** `weft controller`: the rules controller alone. */
export const controllerCommand = serverCommand({
  name: 'controller',
  summary: `the routing and fault rules controller alone (Amalgam8 /v1/rules; default port ${DEFAULT_PORTS.controller})`,
  description: [
    'Serves the Amalgam8 rules API: route and action rules per destination, one revision per namespace, pushed to subscribers. Its default port is the one Amalgam8 published its controller on (A8_CONTROLLER_URL).',
    AUTH_NOTE,
  ],
  schema: ControllerConfigSchema,
  schemaFile: 'weft-controller.config.schema.json',
  async build(config, auth) {
    const { controllerOptions } = await import('./server-options.js');
    const { createControllerServer } = await import('../controller/index.js');
    return createControllerServer(controllerOptions(config, auth));
  },
});
