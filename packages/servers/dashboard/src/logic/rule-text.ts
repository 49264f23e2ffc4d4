import { type LintFinding, lint, parseRules } from '@weft/core';
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, stringify } from 'yaml';
import type { ErrorIssue, StoredRule } from '../api/types.js';

/** The editor's text format. */
export type RuleFormat = 'json' | 'yaml';

/** A problem or remark placed in the editor: its field path and, when found, its line (1-based). */
export interface PlacedIssue {
  /** The path as the user reads it: relative to the edited rule (`route.backends[0].weight`). */
  readonly path: string;
  readonly message: string;
  readonly line: number | undefined;
  readonly severity: 'error' | 'warning' | 'info';
  readonly code?: string;
}

/** What the editor's text holds, checked as the controller will check it. */
export interface RuleTextCheck {
  /** The rules to send (one for a rule object, several for an array or a `{rules}` document). */
  readonly rules: readonly unknown[] | undefined;
  /** Syntax error, or the schema's problems (the same `parseRules` the controller runs). */
  readonly errors: readonly PlacedIssue[];
  /** core's `lint` of the rules (only when they are valid), as the controller's write warnings. */
  readonly remarks: readonly PlacedIssue[];
}

/** Instances for lint's "no instance carries these tags" remarks. */
export type KnownInstances = Iterable<{ readonly service: string; readonly tags: readonly string[] }>;

/** How the text's top level relates to the controller's `rules[i]` paths. */
type Shape = 'rule' | 'array' | 'document';

/** The text of a rule for editing: JSON (2 spaces) or YAML. */
export function ruleToText(rule: unknown, format: RuleFormat): string {
  return format === 'json' ? `${JSON.stringify(rule, null, 2)}\n` : stringify(rule);
}

/** The editor's text in the other format; undefined when it does not parse. */
export function convertText(text: string, to: RuleFormat): string | undefined {
  const parsed = parseText(text);
  return 'value' in parsed ? ruleToText(parsed.value, to) : undefined;
}

/** Parses, validates and lints the editor's text; never throws. */
export function checkRuleText(text: string, instances?: KnownInstances): RuleTextCheck {
  const parsed = parseText(text);
  if (!('value' in parsed)) return { rules: undefined, errors: [parsed.error], remarks: [] };
  const { value } = parsed;
  const shape = shapeOf(value);
  const rules = shape === 'rule' ? [value] : shape === 'array' ? (value as unknown[]) : rulesOf(value);
  if (rules === undefined)
    return {
      rules: undefined,
      errors: [
        {
          path: '(top)',
          message: 'must be a rule object, a list of rules or {rules: [...]}',
          line: 1,
          severity: 'error',
        },
      ],
      remarks: [],
    };
  try {
    parseRules(rules);
  } catch (err) {
    const issues = (err as { issues?: readonly ErrorIssue[] }).issues ?? [
      { path: '', message: err instanceof Error ? err.message : String(err) },
    ];
    return { rules, errors: placeIssues(text, issues), remarks: [] };
  }
  // Lint needs ids to name rules; the controller gives new rules one, so a stand-in is fine here.
  const withIds = rules.map((r, i) =>
    typeof r === 'object' && r !== null && !('id' in r) ? { ...(r as object), id: `(new rule ${i + 1})` } : r,
  );
  const findings: LintFinding[] = lint(withIds, instances === undefined ? {} : { instances });
  const remarks = placeIssues(
    text,
    findings.map((f) => ({ path: f.path, message: f.message, code: f.code, severity: f.severity })),
  );
  return { rules, errors: [], remarks };
}

/**
 * Places the controller's (or core's) issues, whose paths name the request body's rules
 * (`rules[0].route.backends[0].weight`), in the editor's text: the path as the user wrote the
 * text, and the line of the field (or of the nearest enclosing one that exists — a missing
 * field's object; an unrecognized key's own line).
 */
export function placeIssues(
  text: string,
  issues: readonly (ErrorIssue & { readonly code?: string; readonly severity?: string })[],
): PlacedIssue[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const root = doc.errors.length === 0 ? (doc.contents as Node | null) : null;
  const shape = shapeOf(doc.errors.length === 0 ? doc.toJS() : undefined);
  return issues.map((issue) => {
    const full = pathSegments(issue.path);
    // The text's own view of the path: `rules[0]` is the text itself when it is one rule.
    const local =
      shape === 'rule' && full[0] === 'rules' && full[1] === 0
        ? full.slice(2)
        : shape === 'array' && full[0] === 'rules'
          ? full.slice(1)
          : full;
    const unknownKey = /^Unrecognized keys?: "([^"]+)"/.exec(issue.message)?.[1];
    const target = unknownKey === undefined ? local : [...local, unknownKey];
    const offset = root === null ? undefined : offsetOf(root, target);
    const severity = issue.severity === 'warning' || issue.severity === 'info' ? issue.severity : 'error';
    return {
      // An unrecognized key is named itself: that is the field to fix (or delete).
      path: formatSegments(target) || '(top)',
      message: issue.message,
      line: offset === undefined ? undefined : lines.linePos(offset).line,
      severity,
      ...(issue.code === undefined ? {} : { code: issue.code }),
    };
  });
}

/** `rules[0].match.headers.Cookie` → `['rules', 0, 'match', 'headers', 'Cookie']`. */
export function pathSegments(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g))
    out.push(m[2] === undefined ? (m[1] as string) : Number(m[2]));
  return out;
}

function formatSegments(segments: readonly (string | number)[]): string {
  let out = '';
  for (const s of segments) out += typeof s === 'number' ? `[${s}]` : out === '' ? s : `.${s}`;
  return out;
}

/** The offset where the deepest existing node on `segments` starts (a map entry: its key). */
function offsetOf(root: Node, segments: readonly (string | number)[]): number | undefined {
  let node: Node = root;
  let offset = node.range?.[0];
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment];
      if (item === undefined || !isNodeLike(item)) break;
      node = item;
      offset = node.range?.[0] ?? offset;
    } else if (isMap(node)) {
      // A key that itself holds dots (a header name `x.y`) was split by pathSegments: join the rest.
      const keys = [String(segment), segments.slice(i).join('.')];
      const pair = node.items.find((p) => isScalar(p.key) && keys.includes(String(p.key.value)));
      if (pair === undefined || !isScalar(pair.key)) break;
      offset = pair.key.range?.[0] ?? offset;
      if (String(pair.key.value) !== String(segment)) break;
      if (!isNodeLike(pair.value)) break;
      node = pair.value;
    } else break;
  }
  return offset;
}

const isNodeLike = (value: unknown): value is Node => typeof value === 'object' && value !== null && 'range' in value;

function shapeOf(value: unknown): Shape {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object' && value !== null && 'rules' in value && !('destination' in value)) return 'document';
  return 'rule';
}

function rulesOf(value: unknown): unknown[] | undefined {
  const rules = (value as { rules?: unknown }).rules;
  return Array.isArray(rules) ? rules : undefined;
}

/**
 * JSON when the text starts as JSON does (so its errors read as JSON errors), else YAML. An
 * error carries its line when the parser gives one.
 */
export function parseText(text: string): { value: unknown } | { error: PlacedIssue } {
  const trimmed = text.trim();
  if (trimmed === '')
    return { error: { path: '(top)', message: 'is empty: write a rule', line: 1, severity: 'error' } };
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return { value: JSON.parse(text) };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return { error: { path: '(syntax)', message, line: jsonErrorLine(text, message), severity: 'error' } };
    }
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const first = doc.errors[0];
  if (first !== undefined)
    return {
      error: {
        path: '(syntax)',
        message: first.message.split('\n')[0] ?? first.message,
        line: lines.linePos(first.pos[0]).line,
        severity: 'error',
      },
    };
  return { value: doc.toJS() };
}

/** The line of a JSON.parse error: browsers say `(line 3 column 5)` or `at position 42`. */
export function jsonErrorLine(text: string, message: string): number | undefined {
  const line = /line (\d+) column \d+/.exec(message);
  if (line !== null) return Number(line[1]);
  const position = /position (\d+)/.exec(message);
  if (position === null) return undefined;
  return text.slice(0, Number(position[1])).split('\n').length;
}

/** A rule as the editor starts a new one. */
export const NEW_RULE_TEMPLATE: Partial<StoredRule> = {
  destination: 'reviews',
  priority: 1,
  route: { backends: [{ tags: ['version=v1'] }] },
};
