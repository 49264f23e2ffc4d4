import { registryConformanceCases } from './registry-cases.js';
import { sourceConformanceCases } from './source-cases.js';
import type {
  ConformanceCase,
  ConformanceOptions,
  RegistryFixture,
  RegistrySuite,
  SourceFixture,
  SourceSuite,
  TestApi,
} from './types.js';

/** Runs one case with a fresh fixture and always closes the fixture, even when the case fails. */
export async function runCase<F extends { close(): Promise<void> }>(
  testCase: ConformanceCase<F>,
  create: () => Promise<F>,
): Promise<void> {
  const fixture = await create();
  let failure: unknown;
  try {
    await testCase.run(fixture);
  } catch (err) {
    failure = err;
  }
  try {
    await fixture.close();
  } catch (err) {
    failure ??= err;
  }
  if (failure !== undefined) throw failure;
}

function bind<F extends { close(): Promise<void> }>(
  api: TestApi,
  title: string,
  suite: { setup?(): Promise<void>; teardown?(): Promise<void>; create(): Promise<F> },
  cases: ConformanceCase<F>[],
): void {
  api.describe(title, () => {
    if (suite.setup !== undefined) {
      if (api.beforeAll === undefined) throw new Error('the suite has setup() but the test API has no beforeAll');
      api.beforeAll(() => suite.setup?.(), 180_000);
    }
    if (suite.teardown !== undefined) {
      if (api.afterAll === undefined) throw new Error('the suite has teardown() but the test API has no afterAll');
      api.afterAll(() => suite.teardown?.(), 60_000);
    }
    for (const c of cases) api.it(c.name, () => runCase(c, () => suite.create()), c.timeoutMs);
  });
}

/**
 * Declares the source conformance cases as tests of your framework, one `describe` block named
 * `source conformance: <name>`. Call it at the top level of a test file:
 *
 * ```ts
 * import * as vitest from 'vitest';
 * import { describeSourceConformance } from '@weft/adapters/testkit';
 *
 * describeSourceConformance(vitest, 'my source', {
 *   setup: startServer, teardown: stopServer,
 *   create: async () => ({ source, upsert, remove, restartServer, close }),
 *   features: { disconnect: true, badRecords: true },
 * });
 * ```
 */
export function describeSourceConformance(
  api: TestApi,
  name: string,
  suite: SourceSuite,
  options: ConformanceOptions = {},
): void {
  bind<SourceFixture>(api, `source conformance: ${name}`, suite, sourceConformanceCases(suite.features, options));
}

/** Declares the registry conformance cases as tests, like {@link describeSourceConformance}. */
export function describeRegistryConformance(
  api: TestApi,
  name: string,
  suite: RegistrySuite,
  options: ConformanceOptions = {},
): void {
  bind<RegistryFixture>(api, `registry conformance: ${name}`, suite, registryConformanceCases(suite.features, options));
}

/** The outcome of one case run by {@link runConformance}. */
export interface CaseResult {
  readonly name: string;
  readonly passed: boolean;
  readonly ms: number;
  readonly error?: unknown;
}

/**
 * Runs cases one after another without any test framework (a script, a CI smoke check) and
 * reports each outcome; it never throws for a failing case.
 */
export async function runConformance<F extends { close(): Promise<void> }>(
  cases: readonly ConformanceCase<F>[],
  create: () => Promise<F>,
): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const c of cases) {
    const started = Date.now();
    try {
      await runCase(c, create);
      results.push({ name: c.name, passed: true, ms: Date.now() - started });
    } catch (error) {
      results.push({ name: c.name, passed: false, ms: Date.now() - started, error });
    }
  }
  return results;
}
