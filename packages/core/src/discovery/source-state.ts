import type { ServiceInstance } from '../model/index.js';
import type { Subscription } from '../registry/types.js';
import type { Source } from './source.js';

/** Health of one source as Discovery sees it. */
export interface SourceHealth {
  readonly name: string;
  /** `pending`: no snapshot yet; `ok`: last event was a snapshot; `stale`: failing, serving last-known-good. */
  readonly state: 'pending' | 'ok' | 'stale';
  /** When the current failure began (ms since epoch), if stale. */
  readonly staleSince: number | undefined;
  readonly lastError: Error | undefined;
  /** When the last snapshot arrived (ms since epoch). */
  readonly lastUpdate: number | undefined;
  readonly revision: string | number | undefined;
}

/** Discovery's bookkeeping for one source: its last-known-good catalogue, grouped by service. */
export class SourceState {
  byService = new Map<string, ServiceInstance[]>();
  state: SourceHealth['state'] = 'pending';
  staleSince: number | undefined;
  lastError: Error | undefined;
  lastUpdate: number | undefined;
  revision: string | number | undefined;
  subscription: Subscription | undefined;

  constructor(
    readonly source: Source,
    readonly priority: number,
  ) {}

  health(): SourceHealth {
    return {
      name: this.source.name,
      state: this.state,
      staleSince: this.staleSince,
      lastError: this.lastError,
      lastUpdate: this.lastUpdate,
      revision: this.revision,
    };
  }
}

/** Groups instances by service. */
export function groupByService(instances: readonly ServiceInstance[]): Map<string, ServiceInstance[]> {
  const out = new Map<string, ServiceInstance[]>();
  for (const i of instances) {
    const list = out.get(i.service);
    if (list === undefined) out.set(i.service, [i]);
    else list.push(i);
  }
  return out;
}
