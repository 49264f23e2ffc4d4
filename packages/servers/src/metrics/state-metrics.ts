import type { Registry } from '@weft/core';
import { MirroredRegistry } from '../registry/mirrors/mirrored-registry.js';
import type { RulesStore } from '../rules-store/types.js';
import type { MetricFamily, Sample } from './exposition.js';

/** A scrape waits this long for a store, ms: a partitioned etcd must not hang Prometheus' scrape. */
const STORE_DEADLINE_MS = 2_000;

/** What a server's state gauges are read from, at scrape time (never on the request path). */
export interface StateSources {
  /** The registry the server serves, if it serves one. */
  readonly registry?: Registry | undefined;
  /** The rules store the server serves, if it serves one. */
  readonly rulesStore?: RulesStore | undefined;
}

function deadline<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${STORE_DEADLINE_MS} ms`)), STORE_DEADLINE_MS);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** Whether a rules store reaches its backend: the etcd store's `state` when it has one (no I/O), else `check()`. */
async function rulesStoreUp(store: RulesStore): Promise<boolean> {
  const state = (store as { readonly state?: { readonly status?: unknown } }).state;
  if (typeof state?.status === 'string') return state.status === 'ready';
  return deadline(store.check()).then(
    () => true,
    () => false,
  );
}

/**
 * The gauges of a server's stores, computed when scraped: `weft_registry_instances{namespace,status}`,
 * `weft_rules{namespace}`, `weft_rules_revision{namespace}`, `weft_store_up{store}` and, with
 * mirrors, `weft_registry_mirror_up{mirror,source}` and `weft_registry_mirror_instances{mirror}`.
 * Namespaces are those requests acted in (and `default`).
 */
export async function stateFamilies(sources: StateSources, namespaces: readonly string[]): Promise<MetricFamily[]> {
  const families: MetricFamily[] = [];
  const up: Sample[] = [];
  const { registry, rulesStore } = sources;
  if (registry !== undefined) {
    const counts: Sample[] = [];
    // The probe /health makes; counts served from a watch's last state do not prove the store answers.
    let reached = await deadline(registry.services()).then(
      () => true,
      () => false,
    );
    await Promise.all(
      namespaces.map(async (namespace) => {
        try {
          const byStatus = new Map<string, number>();
          for (const i of await deadline(registry.instances({ namespace, status: 'ALL' })))
            byStatus.set(i.status, (byStatus.get(i.status) ?? 0) + 1);
          for (const [status, value] of byStatus) counts.push({ labels: { namespace, status }, value });
        } catch {
          reached = false;
        }
      }),
    );
    families.push({
      name: 'weft_registry_instances',
      help: 'Registered instances by namespace and status (mirrored ones included).',
      type: 'gauge',
      samples: counts,
    });
    up.push({ labels: { store: 'registry' }, value: reached ? 1 : 0 });
    // Declared without mirrors too (no series): a dashboard's queries find the family either way.
    const mirrors = registry instanceof MirroredRegistry ? registry.mirrorStatus() : [];
    families.push(
      {
        name: 'weft_registry_mirror_up',
        help: 'Whether a registry mirror follows its source: 1 ok, 0 pending or stale (serving its last state).',
        type: 'gauge',
        samples: mirrors.map((m) => ({
          labels: { mirror: m.name, source: m.type },
          value: m.state === 'ok' ? 1 : 0,
        })),
      },
      {
        name: 'weft_registry_mirror_instances',
        help: 'Instances a registry mirror shows.',
        type: 'gauge',
        samples: mirrors.map((m) => ({ labels: { mirror: m.name }, value: m.instances })),
      },
    );
  }
  if (rulesStore !== undefined) {
    const rules: Sample[] = [];
    const revisions: Sample[] = [];
    await Promise.all(
      namespaces.map(async (namespace) => {
        try {
          const ns = await deadline(rulesStore.get(namespace));
          rules.push({ labels: { namespace }, value: ns.rules.length });
          revisions.push({ labels: { namespace }, value: ns.revision });
        } catch {
          // Not reachable: weft_store_up says so; no guess at the count.
        }
      }),
    );
    families.push(
      { name: 'weft_rules', help: 'Rules stored, by namespace.', type: 'gauge', samples: rules },
      {
        name: 'weft_rules_revision',
        help: "The namespace's rules revision (grows by one with each change).",
        type: 'gauge',
        samples: revisions,
      },
    );
    up.push({ labels: { store: 'rules' }, value: (await rulesStoreUp(rulesStore)) ? 1 : 0 });
  }
  families.push({
    name: 'weft_store_up',
    help: 'Whether the store answers: 1 yes, 0 no (reads are served from the last state seen).',
    type: 'gauge',
    samples: up,
  });
  return families;
}
