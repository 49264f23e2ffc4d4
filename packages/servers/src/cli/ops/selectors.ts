import { splitCall, splitConditions } from './conditions.js';
import { UsageError } from './errors.js';
import type { WireMatch } from './wire.js';

/** One `--selector` of `route-set`: a version and when it applies. */
export interface Selector {
  readonly text: string;
  readonly version: string;
  /** Share of the traffic the version gets (0..1); absent: all that the conditions select. */
  readonly weight: number | undefined;
  /** The conditions; absent: every request (a weight split of the default rule). */
  readonly match: WireMatch | undefined;
}

const EXAMPLE = `v2(weight=0.25), v2(user="jason"), v2(header="Foo:bar")`;

/**
 * Parses a8ctl's selector syntax: `version(condition[,condition…])` where a condition is
 * `weight=0.25`, `user="jason"` (the `user` cookie, as a8ctl's bookinfo set it), `cookie="name=value"`
 * or `header="Name:regex"`. a8ctl took one condition per selector; several combine with AND.
 */
export function parseSelector(text: string): Selector {
  const what = `--selector '${text}'`;
  const { version, inner } = splitCall(text, '--selector', EXAMPLE);
  let weight: number | undefined;
  const headers: Record<string, string> = {};
  const cookies: Record<string, { exact: string }> = {};
  const conditions = splitConditions(inner, what);
  if (conditions.length === 0) throw new UsageError(`${what} has no condition, e.g. ${EXAMPLE}`);
  for (const [key, value] of conditions) {
    switch (key) {
      case 'weight': {
        const w = Number(value);
        if (value === '' || !Number.isFinite(w) || w <= 0 || w >= 1)
          throw new UsageError(`${what}: weight must be a number between 0 and 1, exclusive (got '${value}')`);
        weight = w;
        break;
      }
      case 'user':
        if (value === '') throw new UsageError(`${what}: user needs a value, e.g. user="jason"`);
        cookies.user = { exact: value };
        break;
      case 'cookie': {
        const eq = value.indexOf('=');
        if (eq <= 0) throw new UsageError(`${what}: cookie must be "name=value" (got '${value}')`);
        cookies[value.slice(0, eq).trim()] = { exact: value.slice(eq + 1).trim() };
        break;
      }
      case 'header': {
        const colon = value.indexOf(':');
        if (colon <= 0) throw new UsageError(`${what}: header must be "Name:regex" (got '${value}')`);
        headers[value.slice(0, colon).trim()] = value.slice(colon + 1).trim();
        break;
      }
      default:
        throw new UsageError(`${what}: unknown condition '${key}' (weight, user, cookie or header)`);
    }
  }
  const match: WireMatch = {
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    ...(Object.keys(cookies).length > 0 ? { cookies } : {}),
  };
  return { text, version, weight, match: Object.keys(match).length > 0 ? match : undefined };
}
