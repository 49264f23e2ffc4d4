/**
 * The shapes this CLI reads from the control plane, as loosely as it needs them: the controller
 * validated every rule it stores, so only the fields the commands look at are named, and every
 * other field passes through untouched when a rule is written back.
 */
export interface WireBackend {
  tags?: string[];
  weight?: number;
  [field: string]: unknown;
}

export interface WireAction {
  action: string;
  probability?: number;
  tags?: string[];
  duration?: number | string;
  return_code?: number;
  log_key?: string;
  log_value?: string;
}

export type WireStringMatch =
  | string
  | { exact?: string; prefix?: string; regex?: string; present?: boolean; absent?: boolean };

export interface WireMatch {
  source?: { name: string; tags?: string[] };
  headers?: Record<string, WireStringMatch>;
  cookies?: Record<string, WireStringMatch>;
  [field: string]: unknown;
}

export interface WireRule {
  id?: string;
  destination: string;
  priority?: number;
  tags?: string[];
  match?: WireMatch;
  route?: { backends: WireBackend[]; [field: string]: unknown };
  actions?: WireAction[];
  [field: string]: unknown;
}

/** An instance as the registry lists it. */
export interface WireInstance {
  id: string;
  service_name: string;
  status?: string;
  tags?: string[];
  endpoint?: { type: string; value: string };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The `rules` of an answer (`{rules, revision}`), checked to be a list of objects. */
export function rulesOf(body: unknown): WireRule[] {
  const rules = isObject(body) ? body.rules : undefined;
  if (!Array.isArray(rules) || !rules.every(isObject)) throw new Error('the controller answered without a rules list');
  return rules as WireRule[];
}

/** `{services: {destination: [rules]}}` of `/v1/rules/routes` and `/v1/rules/actions`. */
export function servicesOf(body: unknown): Map<string, WireRule[]> {
  const services = isObject(body) ? body.services : undefined;
  if (!isObject(services)) throw new Error('the controller answered without a services map');
  return new Map(Object.entries(services).map(([name, rules]) => [name, rulesOf({ rules })]));
}

/** The instances of `/api/v1/instances`. */
export function instancesOf(body: unknown): WireInstance[] {
  const list = isObject(body) ? body.instances : undefined;
  if (!Array.isArray(list)) throw new Error('the registry answered without an instances list');
  return list.filter(isObject) as unknown as WireInstance[];
}
