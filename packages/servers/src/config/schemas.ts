import * as z from 'zod/mini';
import { authSection, checkAuth } from './auth-settings.js';
import { controllerSection } from './controller-settings.js';
import { checkIdentity, identitySection } from './identity-settings.js';
import { checkTtl, registrySection } from './registry-settings.js';
import { logRequestsSetting, serverSettings } from './server-settings.js';
import { sidecarConfigSchema } from './sidecar-settings.js';
import { checkStore, sharedStoreSetting, withSharedStore } from './store-settings.js';
import { checkTelemetry, telemetrySection } from './telemetry-settings.js';

/**
 * Default ports. Amalgam8's registry and controller both listened on 8080 in their containers
 * (`api_port`), published on the host as 31300 and 31200 — the addresses a8ctl and its
 * `A8_REGISTRY_URL` / `A8_CONTROLLER_URL` default to. Weft keeps those two for the servers run
 * alone (so both fit on one machine and a8ctl finds them), and 8080 for the control plane, which
 * serves both APIs on one port as each Amalgam8 container did its own.
 */
export const DEFAULT_PORTS = { registry: 31300, controller: 31200, 'control-plane': 8080 } as const;

type Issue = (path: readonly string[], message: string) => void;
const reporter =
  (ctx: z.core.$RefinementCtx): Issue =>
  (path, message) =>
    ctx.addIssue({ code: 'custom', path: [...path], message });

/** `weft registry`: the registry alone. */
export const RegistryConfigSchema = z
  .strictObject({
    ...serverSettings(DEFAULT_PORTS.registry),
    logRequests: logRequestsSetting(),
    auth: authSection(),
    registry: registrySection(),
  })
  .check(
    z.superRefine((c, ctx) => {
      const issue = reporter(ctx);
      checkAuth(c.auth, issue);
      checkStore(c.registry.store, ['registry', 'store'], issue);
      checkTtl(c.registry.ttl, issue);
    }),
  );
export type RegistryConfig = z.output<typeof RegistryConfigSchema>;

/** `weft controller`: the rules controller alone. */
export const ControllerConfigSchema = z
  .strictObject({
    ...serverSettings(DEFAULT_PORTS.controller),
    auth: authSection(),
    controller: controllerSection(),
    identity: identitySection(),
    telemetry: telemetrySection(),
  })
  .check(
    z.superRefine((c, ctx) => {
      const issue = reporter(ctx);
      checkAuth(c.auth, issue);
      checkStore(c.controller.store, ['controller', 'store'], issue);
      checkIdentity(c.identity, issue);
      checkTelemetry(c.telemetry, issue);
    }),
  );
export type ControllerConfig = z.output<typeof ControllerConfigSchema>;

/** `weft control-plane`: both on one port, with one auth chain. */
export const ControlPlaneConfigSchema = z
  .strictObject({
    ...serverSettings(DEFAULT_PORTS['control-plane']),
    logRequests: logRequestsSetting(),
    auth: authSection(),
    store: sharedStoreSetting(),
    registry: registrySection(true),
    controller: controllerSection(true),
    identity: identitySection(),
    telemetry: telemetrySection(),
  })
  .check(
    // `store` decides each store left without a type; explicit per-server settings win.
    z.overwrite((c) => ({
      ...c,
      registry: { ...c.registry, store: withSharedStore(c.registry.store, c.store) },
      controller: { ...c.controller, store: withSharedStore(c.controller.store, c.store) },
    })),
    z.superRefine((c, ctx) => {
      const issue = reporter(ctx);
      checkAuth(c.auth, issue);
      checkStore(c.registry.store, ['registry', 'store'], issue);
      checkTtl(c.registry.ttl, issue);
      checkStore(c.controller.store, ['controller', 'store'], issue);
      checkIdentity(c.identity, issue);
      checkTelemetry(c.telemetry, issue);
      // One file for both would be overwritten by each in turn.
      if (
        c.registry.store.type === 'file' &&
        c.controller.store.type === 'file' &&
        c.registry.store.path === c.controller.store.path
      )
        issue(['controller', 'store', 'path'], 'must differ from registry.store.path');
    }),
  );
export type ControlPlaneConfig = z.output<typeof ControlPlaneConfigSchema>;

/** `weft sidecar`: the agent next to an app (registration, health checks, supervisor, proxy). */
export const SidecarConfigSchema = sidecarConfigSchema('sidecar');
/** `weft gateway`: the same agent at the edge (0.0.0.0, no registration, TLS). */
export const GatewayConfigSchema = sidecarConfigSchema('gateway');

/**
 * The config file schemas, by the name of their JSON Schema file in `packages/servers/schemas/`
 * (written by `npm run schemas`; point an editor's YAML support at them).
 */
export const configSchemas: Readonly<Record<string, z.core.$ZodType>> = Object.freeze({
  'weft-registry.config': RegistryConfigSchema,
  'weft-controller.config': ControllerConfigSchema,
  'weft-control-plane.config': ControlPlaneConfigSchema,
  'weft-sidecar.config': SidecarConfigSchema,
  'weft-gateway.config': GatewayConfigSchema,
});
