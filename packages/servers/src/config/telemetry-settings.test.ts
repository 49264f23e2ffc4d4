import { describe, expect, it } from 'vitest';
import { controllerOptions, controlPlaneOptions } from '../cli/server-options.js';
import { resolveTelemetry } from '../telemetry/settings.js';
import { configFixture } from './config-fixture.js';
import { ControllerConfigSchema, ControlPlaneConfigSchema, RegistryConfigSchema } from './schemas.js';

const controller = configFixture('controller', ControllerConfigSchema, 'weft-telemetry-config-');
const controlPlane = configFixture('control-plane', ControlPlaneConfigSchema, 'weft-telemetry-cp-config-');

/** The limits the servers had before they were settings. */
const DEFAULTS = {
  enabled: true,
  recordsPerNamespace: 10_000,
  maxBatchRecords: 2000,
  runsPerNamespace: 50,
  maxNamespaces: 256,
  topologyWindowS: 60,
  topologyMaxWindowS: 3600,
  rulesHistory: 20,
};

describe('telemetry settings', () => {
  it('default to the limits the servers always had, for the controller and the control plane', async () => {
    const { config } = await controller.load([]);
    expect(config.telemetry).toEqual({
      enabled: true,
      ringSize: 10_000,
      maxBatch: 2000,
      recipeRuns: 50,
      maxNamespaces: 256,
      topologyWindow: 60_000,
      topologyMaxWindow: 3_600_000,
      rulesHistory: 20,
    });
    expect(controllerOptions(config, []).telemetry).toEqual(DEFAULTS);
    expect(controlPlaneOptions((await controlPlane.load([])).config, []).telemetry).toEqual(DEFAULTS);
    // What a server resolves from no options at all is the same.
    expect(resolveTelemetry()).toEqual(DEFAULTS);
  });

  it('are read from flags, the environment and the config file, flags winning', async () => {
    const { config } = await controlPlane.load(
      ['--telemetry-ring-size', '5', '--telemetry-topology-window', '2m', '--no-telemetry-enabled'],
      { WEFT_TELEMETRY_RECIPE_RUNS: '7', WEFT_TELEMETRY_RING_SIZE: '9' },
      'telemetry:\n  maxBatch: 500\n  rulesHistory: 3\n  topologyMaxWindow: 10m\n  maxNamespaces: 4\n',
    );
    expect(controlPlaneOptions(config, []).telemetry).toEqual({
      enabled: false,
      recordsPerNamespace: 5,
      maxBatchRecords: 500,
      runsPerNamespace: 7,
      maxNamespaces: 4,
      topologyWindowS: 120,
      topologyMaxWindowS: 600,
      rulesHistory: 3,
    });
    const env = await controller.load([], { WEFT_TELEMETRY_ENABLED: 'false', WEFT_TELEMETRY_MAX_BATCH: '10000' });
    expect(env.config.telemetry).toMatchObject({ enabled: false, maxBatch: 10_000 });
  });

  it('name each bad value, with where it came from', async () => {
    expect(
      await controller.problems(['--telemetry-ring-size', '0', '--telemetry-max-batch', '100'], {
        WEFT_TELEMETRY_RECIPE_RUNS: 'lots',
      }),
    ).toEqual([
      'telemetry.ringSize = 0 (from --telemetry-ring-size): must be at least 1',
      'telemetry.maxBatch = 100 (from --telemetry-max-batch): must be at least 500',
      'telemetry.recipeRuns = "lots" (from env WEFT_TELEMETRY_RECIPE_RUNS): must be a number of runs',
    ]);
    expect(
      await controlPlane.problems(
        [],
        {},
        'telemetry:\n  ringSize: 2000000\n  rulesHistory: many\n  enabled: maybe\n  recipeRuns: 2.5\n',
      ),
    ).toEqual([
      'telemetry.enabled = "maybe" (from weft.yaml:4): must be true or false',
      'telemetry.ringSize = 2000000 (from weft.yaml:2): must be at most 1000000',
      'telemetry.recipeRuns = 2.5 (from weft.yaml:5): must be a whole number',
      'telemetry.rulesHistory = "many" (from weft.yaml:3): must be a number of revisions',
    ]);
  });

  it('keep the topology windows whole seconds, the default within the longest', async () => {
    expect(await controller.problems(['--telemetry-topology-window', '1500ms'])).toEqual([
      'telemetry.topologyWindow = "1500ms" (from --telemetry-topology-window): must be a whole number of seconds, at least 1s',
    ]);
    expect(
      await controller.problems(['--telemetry-topology-window', '2h'], { WEFT_TELEMETRY_TOPOLOGY_MAX_WINDOW: '1h' }),
    ).toEqual([
      'telemetry.topologyWindow = "2h" (from --telemetry-topology-window): must not exceed telemetry.topologyMaxWindow',
    ]);
    expect(await controller.problems(['--telemetry-topology-max-window', '25h'])).toEqual([
      'telemetry.topologyMaxWindow = "25h" (from --telemetry-topology-max-window): must be at most 24h',
    ]);
  });

  it('belong to the processes that serve the telemetry routes only', () => {
    expect(Object.keys(RegistryConfigSchema.shape)).not.toContain('telemetry');
  });

  it('refuse bad options given to a server in code, naming each field', () => {
    expect(() => resolveTelemetry({ recordsPerNamespace: -1, maxBatchRecords: 20_000, topologyWindowS: 1.5 })).toThrow(
      expect.objectContaining({
        code: 'WEFT_ERR_INVALID_ARGUMENT',
        issues: [
          { path: 'telemetry.recordsPerNamespace', message: 'must be a whole number from 1 to 1000000 (got -1)' },
          { path: 'telemetry.maxBatchRecords', message: 'must be a whole number from 500 to 10000 (got 20000)' },
          { path: 'telemetry.topologyWindowS', message: 'must be a whole number from 1 to 86400 (got 1.5)' },
        ],
      }),
    );
    expect(() => resolveTelemetry({ topologyWindowS: 600, topologyMaxWindowS: 60 })).toThrow(
      expect.objectContaining({
        issues: [{ path: 'telemetry.topologyWindowS', message: 'must not exceed telemetry.topologyMaxWindowS' }],
      }),
    );
  });
});
