import { prepareRules } from './prepare.js';
import { RulesStoreBase, type RulesStoreOptions } from './store-base.js';
import type { NamespaceRules } from './types.js';

/** Options of {@link MemoryRulesStore}. */
export interface MemoryRulesStoreOptions extends RulesStoreOptions {
  /** Rules to start with (validated like any write), e.g. for tests or an embedded controller. */
  readonly initial?: Iterable<Pick<NamespaceRules, 'namespace' | 'revision' | 'rules'>> | undefined;
}

/**
 * The default rules store: every namespace in memory, gone with the process. Writes apply at
 * once; revisions start at 0 on every start (a proxy that reconnects with a higher revision is
 * given the current state at once, see `serveRead`).
 */
export class MemoryRulesStore extends RulesStoreBase {
  constructor(options: MemoryRulesStoreOptions = {}) {
    const initial = [...(options.initial ?? [])].map((ns) => ({
      namespace: ns.namespace,
      revision: ns.revision,
      rules: prepareRules(ns.rules),
    }));
    super(initial, undefined, options);
  }

  protected describe(): string {
    return 'memory';
  }
}
