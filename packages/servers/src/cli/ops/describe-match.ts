import { tagsToVersion } from './versions.js';
import type { WireMatch, WireStringMatch } from './wire.js';

/**
 * The user-cookie regexes Amalgam8's tools wrote: a8ctl 0.3's `.*?user=jason` and the later
 * `^(.*?;)?(user=jason)(;.*)?$`. Shown as `user="jason"`, as a8ctl showed them.
 */
const USER_COOKIE = [/^\.\*\?user=([\w.@-]+)$/, /^\^\(\.\*\?;\)\?\(user=([\w.@-]+)\)\(;\.\*\)\?\$$/];

function stringMatch(m: WireStringMatch): string {
  if (typeof m === 'string') return m;
  const [kind, value] = Object.entries(m)[0] ?? ['', ''];
  return kind === 'regex' ? String(value) : `${kind}:${String(value)}`;
}

/**
 * A rule's conditions in a8ctl's selector syntax — `source=reviews:v2`, `user="jason"`,
 * `header="Foo:bar"`, `cookie="name=value"` — and Weft's other conditions as `key=json`, so a
 * table shows every condition a rule has.
 */
export function describeMatch(match: WireMatch | undefined): string[] {
  if (match === undefined) return [];
  const out: string[] = [];
  for (const [key, value] of Object.entries(match)) {
    if (key === 'source' && match.source !== undefined) {
      const tags = match.source.tags;
      out.push(
        `source=${match.source.name}${tags === undefined || tags.length === 0 ? '' : `:${tagsToVersion(tags)}`}`,
      );
    } else if (key === 'headers' && match.headers !== undefined) {
      for (const [name, m] of Object.entries(match.headers)) {
        const pattern = stringMatch(m);
        const user = name.toLowerCase() === 'cookie' ? USER_COOKIE.map((re) => re.exec(pattern)).find((x) => x) : null;
        out.push(user ? `user="${user[1]}"` : `header="${name}:${pattern}"`);
      }
    } else if (key === 'cookies' && match.cookies !== undefined) {
      for (const [name, m] of Object.entries(match.cookies)) {
        const exact = typeof m === 'object' && Object.keys(m).length === 1 ? m.exact : undefined;
        if (name === 'user' && exact !== undefined) out.push(`user="${exact}"`);
        else if (exact !== undefined) out.push(`cookie="${name}=${exact}"`);
        else out.push(`cookie="${name}:${JSON.stringify(m)}"`);
      }
    } else out.push(`${key}=${JSON.stringify(value)}`);
  }
  return out;
}
