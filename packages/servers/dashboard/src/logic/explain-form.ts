import type { ExplainRequest } from '../api/types.js';

/** The explain form's fields, as typed. */
export interface ExplainFields {
  readonly destination: string;
  readonly source: string;
  /** Comma-separated: `version=v1, canary`. */
  readonly sourceTags: string;
  readonly method: string;
  readonly path: string;
  /** One `Name: value` a line. */
  readonly headers: string;
}

/** The form's problems, by field, or the body of `POST /v1/rules/explain`. */
export function explainRequest(
  fields: ExplainFields,
): { request: ExplainRequest } | { problems: Record<string, string> } {
  const problems: Record<string, string> = {};
  const destination = fields.destination.trim();
  if (destination === '') problems.destination = 'is required: the service the request is for';
  const headers: Record<string, string> = {};
  fields.headers.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const colon = line.indexOf(':');
    const name = colon < 0 ? '' : line.slice(0, colon).trim();
    if (colon < 0 || name === '' || /\s/.test(name)) problems.headers = `line ${i + 1}: write "Name: value"`;
    else headers[name] = line.slice(colon + 1).trim();
  });
  const path = fields.path.trim();
  if (path !== '' && !path.startsWith('/')) problems.path = 'must start with /';
  if (Object.keys(problems).length > 0) return { problems };
  const tags = fields.sourceTags
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  const source = fields.source.trim();
  return {
    request: {
      destination,
      ...(source === '' && tags.length === 0 ? {} : { source: { ...(source === '' ? {} : { name: source }), tags } }),
      ...(fields.method.trim() === '' ? {} : { method: fields.method.trim().toUpperCase() }),
      ...(path === '' ? {} : { path }),
      ...(Object.keys(headers).length === 0 ? {} : { headers }),
    },
  };
}
