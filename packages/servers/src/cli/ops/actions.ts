import { splitCall } from './conditions.js';
import { UsageError } from './errors.js';
import { tagsToVersion } from './versions.js';
import type { WireAction } from './wire.js';

const EXAMPLE = `v1(1->delay=7), v2(0.5->abort=400)`;

/** The version of an action that applies to every instance of the destination (no tags). */
export const ANY_VERSION = '*';

/** One `--action` of `action-add`, its version still to be resolved to tags. */
export interface ParsedAction {
  readonly version: string;
  readonly action: Omit<WireAction, 'tags'>;
}

/**
 * Parses a8ctl's action syntax `version(probability->kind=value)`: `delay=7` (seconds; Weft also
 * takes `delay=250ms`), `abort=400` (a status, or -1 to reset the connection), and Weft's
 * `trace=key:value` (log the attempt with that field). Version `*` means every instance.
 */
export function parseAction(text: string): ParsedAction {
  const what = `--action '${text}'`;
  const { version, inner } = splitCall(text, '--action', EXAMPLE);
  const m = /^\s*([^-\s>]+)\s*->\s*(\w+)\s*=\s*(.+?)\s*$/.exec(inner);
  if (m === null) throw new UsageError(`${what} is not version(probability->action=value), e.g. ${EXAMPLE}`);
  const [, p, kind, value] = m as unknown as [string, string, string, string];
  const probability = Number(p);
  if (!Number.isFinite(probability) || probability < 0 || probability > 1)
    throw new UsageError(`${what}: the probability must be between 0 and 1 (got '${p}')`);
  switch (kind) {
    case 'delay': {
      const seconds = Number(value);
      if (Number.isFinite(seconds) && seconds >= 0)
        return { version, action: { action: 'delay', probability, duration: seconds } };
      if (/^\d+(\.\d+)?(ms|s|m|h)$/.test(value))
        return { version, action: { action: 'delay', probability, duration: value } };
      throw new UsageError(`${what}: delay must be seconds (7, 0.5) or a duration (250ms) (got '${value}')`);
    }
    case 'abort': {
      const code = Number(value);
      if (!Number.isInteger(code) || !((code >= 100 && code <= 599) || (code >= -5 && code <= -1)))
        throw new UsageError(
          `${what}: abort must be an HTTP status 100..599, or -1 to reset the connection (got '${value}')`,
        );
      return { version, action: { action: 'abort', probability, return_code: code } };
    }
    case 'trace': {
      const colon = value.indexOf(':');
      return {
        version,
        action:
          colon <= 0
            ? { action: 'trace', probability, log_value: value }
            : { action: 'trace', probability, log_key: value.slice(0, colon), log_value: value.slice(colon + 1) },
      };
    }
    default:
      throw new UsageError(`${what}: unknown action '${kind}' (delay, abort or trace)`);
  }
}

/** An action in the syntax `action-add` takes, so a listed action can be added again as it is. */
export function describeAction(a: WireAction): string {
  const value =
    a.action === 'delay'
      ? `delay=${String(a.duration)}`
      : a.action === 'abort'
        ? `abort=${String(a.return_code)}`
        : `trace=${a.log_key === undefined ? '' : `${a.log_key}:`}${a.log_value ?? ''}`;
  return `${a.tags === undefined || a.tags.length === 0 ? ANY_VERSION : tagsToVersion(a.tags)}(${a.probability ?? 1}->${value})`;
}
