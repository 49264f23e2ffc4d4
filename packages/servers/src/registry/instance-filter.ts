import { InvalidArgumentError, type ServiceInstance } from '@weft/core';
import { Amalgam8Errors } from './errors.js';
import { INSTANCE_FIELDS } from './wire.js';

/**
 * What `GET /api/v1/instances` selects and shows, read from its query the way Amalgam8 did
 * (registry/server/protocol/amalgam8/select_criteria.go and `extractFields`):
 * - `id`, `service_name`, `status` and `tags` filter (a repeated parameter counts once, its first
 *   value); `tags` is split on commas and an instance must carry every one;
 * - `status` matches UP, STARTING, OUT_OF_SERVICE in any case, `ALL` lifts it; any other value
 *   matches nothing (not an error);
 * - with no `status` and no other filter, only UP instances are listed. Any other filter lifts that
 *   default — Amalgam8's tests pin this down (`?tags=DB` lists STARTING instances too);
 * - `fields=a,b` keeps those fields (`id` and `endpoint` always); `fields=` keeps only those two;
 * - any other parameter, or a filter on a field that is not a string (`ttl`, `endpoint`…), is a 400.
 * `index` and `wait` are Weft's long-poll parameters and select nothing.
 */
export interface InstanceSelection {
  /** The parameters that decide the selection, canonically: equal keys select and show alike. */
  readonly key: string;
  /** Fields to keep, or undefined for every field. */
  readonly fields: ReadonlySet<string> | undefined;
  /** The service named by `service_name`, which narrows what is watched. */
  readonly service: string | undefined;
  /** True when the instance is selected. */
  readonly matches: (instance: ServiceInstance) => boolean;
}

/** An invalid query: Amalgam8's text for it, and the error naming the parameter. */
export class SelectionError extends InvalidArgumentError {
  constructor(
    readonly text: string,
    path: string,
    message: string,
  ) {
    super('instance query', [{ path, message }]);
  }
}

const FIELDS: ReadonlySet<string> = new Set(INSTANCE_FIELDS);
const FILTERABLE: ReadonlySet<string> = new Set(['id', 'service_name', 'status', 'tags']);
/** Weft's watch parameters, served by `serveRead`. */
const WATCH_PARAMETERS: ReadonlySet<string> = new Set(['index', 'wait']);
const KNOWN_STATUSES: ReadonlySet<string> = new Set(['UP', 'STARTING', 'OUT_OF_SERVICE', 'ALL']);

function first(value: unknown): string {
  if (Array.isArray(value)) return typeof value[0] === 'string' ? value[0] : '';
  return typeof value === 'string' ? value : '';
}

/** Reads the query; throws a {@link SelectionError} naming the bad parameter. */
export function readSelection(query: Readonly<Record<string, unknown>>): InstanceSelection {
  let fields: Set<string> | undefined;
  if (query.fields !== undefined) {
    const text = first(query.fields);
    fields = new Set();
    if (text !== '')
      for (const field of text.split(',')) {
        if (!FIELDS.has(field))
          throw new SelectionError(
            Amalgam8Errors.badFields,
            'fields',
            `"${field}" is not a field; fields are ${INSTANCE_FIELDS.join(', ')}`,
          );
        fields.add(field);
      }
  }
  const tests: ((instance: ServiceInstance) => boolean)[] = [];
  let status: string | undefined;
  let otherFilter = false;
  let service: string | undefined;
  for (const [param, raw] of Object.entries(query)) {
    if (param === 'fields' || WATCH_PARAMETERS.has(param)) continue;
    if (!FIELDS.has(param))
      throw new SelectionError(Amalgam8Errors.badCriteria, param, 'is not a field of an instance');
    if (!FILTERABLE.has(param))
      throw new SelectionError(Amalgam8Errors.badCriteria, param, 'is not a string field, so it cannot filter');
    const value = first(raw);
    switch (param) {
      case 'status': {
        // Known statuses in any case; anything else is compared as given (and matches nothing).
        status = KNOWN_STATUSES.has(value.toUpperCase()) ? value.toUpperCase() : value;
        const wanted = status;
        if (wanted !== 'ALL') tests.push((i) => i.status === wanted);
        break;
      }
      case 'tags': {
        otherFilter = true;
        const wanted = value.split(',');
        tests.push((i) => wanted.every((t) => i.tags.includes(t)));
        break;
      }
      case 'service_name':
        otherFilter = true;
        if (value !== '') service = value; // an empty name matches nothing, and is no scope to watch
        tests.push((i) => i.service === value);
        break;
      default:
        otherFilter = true;
        tests.push((i) => i.id === value);
    }
  }
  if (status === undefined && !otherFilter) tests.push((i) => i.status === 'UP');
  const decisive = Object.keys(query)
    .filter((param) => !WATCH_PARAMETERS.has(param))
    .sort()
    .map((param) => [param, first(query[param])]);
  const key = JSON.stringify(decisive);
  return { key, fields, service, matches: (instance) => tests.every((test) => test(instance)) };
}
