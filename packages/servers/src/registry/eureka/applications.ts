import type { ServiceInstance } from '@weft/core';
import { type ActionType, type EurekaInstanceView, hasEurekaEndpoint, toEurekaInstance } from './from-weft.js';

/** One Eureka application: a service's instances. */
export interface EurekaApplicationView {
  name: string;
  instances: EurekaInstanceView[];
}

/** A registry read as Eureka's `Applications`: the applications, and the two fields clients reconcile with. */
export interface EurekaApplicationsView {
  /** `versions__delta`: Weft's namespace revision (clients only compare it for equality). */
  versionsDelta: number;
  /** `apps__hashcode`: the reconcile hash of the whole registry (see {@link reconcileHashCode}). */
  appsHashcode: string;
  applications: EurekaApplicationView[];
}

/**
 * Eureka's reconcile hash (`Applications.getReconcileHashCode`): the number of instances in each
 * status, statuses in alphabetical order, as `DOWN_1_UP_3_`. After merging a delta a client
 * computes it over what it holds and fetches everything again when it differs from the server's
 * — so the delta's hash must be the hash of the whole registry, not of the delta.
 */
export function reconcileHashCode(instances: readonly Pick<EurekaInstanceView, 'status'>[]): string {
  const counts = new Map<string, number>();
  for (const { status } of instances) counts.set(status, (counts.get(status) ?? 0) + 1);
  let hash = '';
  for (const status of [...counts.keys()].sort()) hash += `${status}_${counts.get(status)}_`;
  return hash;
}

/** Groups instance views into applications, by name, in a stable order. */
export function groupApplications(instances: readonly EurekaInstanceView[]): EurekaApplicationView[] {
  const byApp = new Map<string, EurekaInstanceView[]>();
  for (const view of instances) {
    const list = byApp.get(view.app);
    if (list === undefined) byApp.set(view.app, [view]);
    else list.push(view);
  }
  return [...byApp.keys()].sort().map((name) => ({ name, instances: byApp.get(name) ?? [] }));
}

/** Instances a Eureka client can call, as Eureka instances. */
export function eurekaViews(
  instances: readonly ServiceInstance[],
  actionType: ActionType = 'ADDED',
): EurekaInstanceView[] {
  return instances.filter(hasEurekaEndpoint).map((i) => toEurekaInstance(i, actionType));
}

/** A full fetch (`GET /apps`, `/vips/…`): every application, and the hash of exactly what is listed. */
export function fullApplications(instances: readonly ServiceInstance[], revision: number): EurekaApplicationsView {
  const views = eurekaViews(instances);
  return { versionsDelta: revision, appsHashcode: reconcileHashCode(views), applications: groupApplications(views) };
}
