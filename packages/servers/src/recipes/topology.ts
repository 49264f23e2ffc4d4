import { parseServiceRef, type RecipeInstance, type ServiceRef, sameRef } from './endpoint.js';
import type { TopologyFile } from './schemas.js';

/** A call edge of the application: `source` calls `dest`. */
export interface Edge {
  readonly source: ServiceRef;
  readonly dest: ServiceRef;
}

/**
 * The application's dependency graph, as a Gremlin topology file draws it: services (with the
 * addresses of their proxies, optionally) and who calls whom. Omitted sources and destinations of
 * scenarios expand over it, and every edge gets a trace rule so its calls are logged for the run.
 */
export class Topology {
  readonly services: readonly ServiceRef[];
  readonly edges: readonly Edge[];
  /** Proxy (admin) addresses the file gives, by service text. */
  readonly proxies: readonly string[];

  constructor(file: TopologyFile, instances: readonly RecipeInstance[] = []) {
    const services: ServiceRef[] = [];
    const add = (text: string): ServiceRef => {
      const ref = parseServiceRef(text, instances);
      const known = services.find((s) => sameRef(s, ref));
      if (known !== undefined) return known;
      services.push(ref);
      return ref;
    };
    for (const s of file.services) add(s.name);
    const edges: Edge[] = [];
    for (const [from, tos] of Object.entries(file.dependencies)) {
      const source = add(from);
      for (const to of tos) {
        const dest = add(to);
        if (!edges.some((e) => e.source === source && e.dest === dest)) edges.push({ source, dest });
      }
    }
    this.services = services;
    this.edges = edges;
    this.proxies = file.services.flatMap((s) => s.service_proxies ?? []);
  }

  /**
   * The service of the topology `text` names, if any: `reviews:v2` finds `reviews:version=v2`,
   * and a bare `ratings` the one version of ratings the topology has.
   */
  find(text: string, instances: readonly RecipeInstance[] = []): ServiceRef | undefined {
    const ref = parseServiceRef(text, instances);
    const same = this.services.find((s) => sameRef(s, ref) || s.text === text);
    if (same !== undefined || ref.tags.length > 0) return same;
    const byName = this.services.filter((s) => s.name === ref.name);
    return byName.length === 1 ? byName[0] : undefined;
  }

  /** The services that call `ref`. */
  dependents(ref: ServiceRef): ServiceRef[] {
    return this.edges.filter((e) => e.dest === ref).map((e) => e.source);
  }

  /** The services `ref` calls. */
  dependencies(ref: ServiceRef): ServiceRef[] {
    return this.edges.filter((e) => e.source === ref).map((e) => e.dest);
  }

  /** Services nothing in the topology calls: where the test's requests enter (the gateway). */
  roots(): ServiceRef[] {
    return this.services.filter((s) => this.dependents(s).length === 0 && this.dependencies(s).length > 0);
  }
}
