import type { Command } from '../command.js';
import { opCommand } from './command.js';
import { headerFlags, stringFlag } from './common-flags.js';
import { UsageError } from './errors.js';
import { outputFormat, serialize } from './output.js';
import { readRulesInput } from './rules-input.js';
import { renderTable } from './table.js';

const PATH = '/v1/authorization';

interface WirePolicy {
  id: string;
  destination: string;
  action: string;
  from?: Record<string, unknown>[];
  to?: Record<string, unknown>[];
}

/** One `from` / `to` entry in a cell: `services=productpage ipBlocks=10.0.0.0/8`. */
function entries(list: Record<string, unknown>[] | undefined): string {
  if (list === undefined) return 'any';
  return list
    .map((e) =>
      Object.entries(e)
        .map(
          ([k, v]) =>
            `${k}=${Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(',') : JSON.stringify(v)}`,
        )
        .join(' '),
    )
    .join(' | ');
}

const OUTPUT = {
  name: 'output',
  short: 'o',
  type: 'string',
  placeholder: 'table|json|yaml',
  description: 'A table for people (default), or JSON or YAML (authz-set -f takes either back)',
} as const;

/** `weft authz-get`: the namespace's authorization policies. */
export const authzGetCommand: Command = opCommand({
  name: 'authz-get',
  summary: "print the namespace's authorization policies (who may call whom)",
  usage: '[-o table|json|yaml]',
  description: [
    'Prints the authorization policies the proxies enforce — GET /v1/authorization: the default action and every policy — as a table, or as JSON or YAML to edit and give back to authz-set.',
  ],
  examples: [
    ['weft authz-get', 'the policies'],
    ['weft authz-get -o yaml > authz.yaml', 'to edit'],
  ],
  flags: [OUTPUT],
  remote: true,
  async run(op) {
    const format = outputFormat(op.args.values, 'table');
    if (op.args.positionals.length > 0) throw new UsageError(`unexpected argument '${op.args.positionals[0]}'`);
    const answer = await op.controller.get(PATH);
    if (format !== 'table') {
      op.out(await serialize(answer.body, format));
      return;
    }
    const body = answer.body as { defaultAction?: string; policies?: WirePolicy[]; revision?: number };
    const policies = body.policies ?? [];
    op.out(`Default action: ${body.defaultAction ?? 'allow'} (revision ${body.revision ?? answer.revision ?? 0})\n`);
    if (policies.length === 0) {
      op.note('no policies');
      return;
    }
    op.out(
      renderTable(
        ['Id', 'Destination', 'Action', 'From', 'To'],
        policies.map((p) => [p.id, p.destination, p.action, entries(p.from), entries(p.to)]),
        op.color,
      ),
    );
  },
});

/** `weft authz-set -f <file>`: replaces the namespace's policies. */
export const authzSetCommand: Command = opCommand({
  name: 'authz-set',
  summary: "replace the namespace's authorization policies from a JSON or YAML file",
  usage: '[-f <file>|-] [--if-revision <n>]',
  description: [
    "Puts the file's {defaultAction?, policies: [...]} in force — PUT /v1/authorization, the whole document at once: every proxy moves from the old policies to the new ones, never to a mix. Invalid policies are refused with every problem named by its path (exit 2), and nothing changes. --if-revision writes only if nobody changed the rules or policies since that revision (exit 4 otherwise).",
  ],
  examples: [['weft authz-get -o yaml > a.yaml; $EDITOR a.yaml; weft authz-set -f a.yaml', 'edit the policies']],
  flags: [
    {
      name: 'file',
      short: 'f',
      type: 'string',
      placeholder: '<file>|-',
      description: 'The policies, JSON or YAML; - (or no -f) reads standard input',
    },
    {
      name: 'if-revision',
      type: 'string',
      placeholder: '<n>',
      description: 'Write only if the namespace is still at this revision',
    },
  ],
  remote: true,
  async run(op) {
    if (op.args.positionals.length > 0)
      throw new UsageError(`unexpected argument '${op.args.positionals[0]}' (the file goes after -f)`);
    const ifRevision = stringFlag(op.args.values, 'if-revision');
    if (ifRevision !== undefined && !/^\d+$/.test(ifRevision))
      throw new UsageError(`--if-revision must be a revision number (got '${ifRevision}')`);
    const { doc } = await readRulesInput(stringFlag(op.args.values, 'file'), op.cli.cwd, '{policies: [...]}');
    // `authz-get -o json` output carries the revision it was read at: not part of the policies.
    const body =
      doc !== null && typeof doc === 'object' && !Array.isArray(doc)
        ? Object.fromEntries(Object.entries(doc).filter(([k]) => k !== 'revision'))
        : doc;
    const answer = await op.controller.request('PUT', PATH, {
      body,
      ...(ifRevision === undefined ? {} : { ifMatch: Number(ifRevision) }),
    });
    const revision = (answer.body as { revision?: unknown } | undefined)?.revision;
    op.out(`Authorization policies set (revision ${String(revision)})\n`);
  },
});

/** `weft authz-clear`: removes the namespace's policies. */
export const authzClearCommand: Command = opCommand({
  name: 'authz-clear',
  summary: "remove the namespace's authorization policies (every call allowed again)",
  usage: '',
  description: ['DELETE /v1/authorization: the proxies go back to allowing every call.'],
  examples: [['weft authz-clear', 'no policies']],
  flags: [],
  remote: true,
  async run(op) {
    if (op.args.positionals.length > 0) throw new UsageError(`unexpected argument '${op.args.positionals[0]}'`);
    const answer = await op.controller.request('DELETE', PATH);
    const revision = (answer.body as { revision?: unknown } | undefined)?.revision;
    op.out(`Authorization policies removed (revision ${String(revision)})\n`);
  },
});

/** `weft authz-explain <service>`: would this caller be let in, and why. */
export const authzExplainCommand: Command = opCommand({
  name: 'authz-explain',
  summary: 'explain whether a caller may call a service under the authorization policies, and why',
  usage:
    "<service> [--ip <address>] [--identity spiffe://…] [-X <method>] [--path <p>] [-H 'Name: value']… [-o json|yaml]",
  description: [
    'Asks the controller (POST /v1/authorization/explain) for the verdict the proxies would reach on the request described: allowed or denied, by which policy, and for each policy considered the first condition that failed. Nothing is sent to the service.',
  ],
  examples: [
    ['weft authz-explain reviews --ip 10.1.2.3', 'is this address blocked?'],
    [
      'weft authz-explain reviews --identity spiffe://weft.local/ns/default/svc/productpage -X POST',
      'may productpage write?',
    ],
  ],
  flags: [
    { name: 'ip', type: 'string', placeholder: '<address>', description: "The caller's address" },
    {
      name: 'identity',
      type: 'string',
      placeholder: 'spiffe://…',
      description: "The caller's verified workload identity",
    },
    {
      name: 'method',
      short: 'X',
      type: 'string',
      placeholder: '<method>',
      description: 'The request method (default GET)',
    },
    { name: 'path', type: 'string', placeholder: '<path>', description: 'The request path' },
    {
      name: 'header',
      short: 'H',
      type: 'string',
      multiple: true,
      placeholder: "'Name: value'",
      description: 'A request header',
    },
    { ...OUTPUT, placeholder: 'text|json|yaml', description: 'Text for people (default), or JSON or YAML' },
  ],
  remote: true,
  async run(op) {
    const format = outputFormat(op.args.values, 'table');
    const [destination, extra] = op.args.positionals;
    if (destination === undefined) throw new UsageError('which service? weft authz-explain <service> [--ip <address>]');
    if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
    const headers = Object.fromEntries(headerFlags(op.args.values).map(([n, v]) => [n.toLowerCase(), v]));
    const ip = stringFlag(op.args.values, 'ip');
    const identity = stringFlag(op.args.values, 'identity');
    // GET unless told, as `weft explain` (a proxy always knows the method).
    const method = stringFlag(op.args.values, 'method') ?? 'GET';
    const path = stringFlag(op.args.values, 'path');
    const answer = await op.controller.request('POST', `${PATH}/explain`, {
      body: {
        destination,
        method,
        ...(path === undefined ? {} : { path }),
        headers,
        peer: { ...(ip === undefined ? {} : { ip }), ...(identity === undefined ? {} : { identity }) },
      },
    });
    if (format !== 'table') {
      op.out(await serialize(answer.body, format));
      return;
    }
    const body = answer.body as {
      decision: { allowed: boolean; reason: string };
      policies: { id: string; action: string; matched: boolean; failed?: string }[];
    };
    let text = `${body.decision.allowed ? 'ALLOWED' : 'DENIED'}: ${body.decision.reason}\n`;
    for (const p of body.policies)
      text += `  ${p.matched ? '✓' : '✗'} ${p.action} ${p.id}${p.failed === undefined ? '' : `: ${p.failed}`}\n`;
    op.out(text);
  },
});
