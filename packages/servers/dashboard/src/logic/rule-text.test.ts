import { describe, expect, it } from 'vitest';
import { checkRuleText, convertText, jsonErrorLine, pathSegments, placeIssues, ruleToText } from './rule-text.js';

const valid = { destination: 'reviews', route: { backends: [{ tags: ['version=v1'] }] } };

describe('checkRuleText', () => {
  it('accepts a valid rule as JSON and as YAML, with no errors', () => {
    for (const format of ['json', 'yaml'] as const) {
      const check = checkRuleText(ruleToText(valid, format));
      expect(check.errors).toEqual([]);
      expect(check.rules).toEqual([valid]);
    }
  });

  it("places a misspelt field on its own line, with core's message and the path relative to the rule", () => {
    const text = ruleToText({ destinaton: 'reviews', route: { backends: [{ tags: ['version=v1'] }] } }, 'json');
    const { errors } = checkRuleText(text);
    expect(errors).toContainEqual({
      path: 'destination',
      message: 'is required',
      line: 1, // missing: the rule object itself
      severity: 'error',
    });
    expect(errors).toContainEqual({
      path: 'destinaton',
      message: 'Unrecognized key: "destinaton"',
      line: 2,
      severity: 'error',
    });
  });

  it('places a bad value at its field in YAML', () => {
    const text = [
      'destination: reviews',
      'route:',
      '  backends:',
      '    - tags: [version=v1]',
      '      weight: 7',
      '',
    ].join('\n');
    const { errors } = checkRuleText(text);
    expect(errors).toEqual([
      { path: 'route.backends[0].weight', message: 'must be between 0 and 1', line: 5, severity: 'error' },
    ]);
  });

  it('reports a syntax error with its line, and no rules', () => {
    const check = checkRuleText('{\n  "destination": "reviews",\n  "route": {\n}');
    expect(check.rules).toBeUndefined();
    expect(check.errors[0]?.path).toBe('(syntax)');
    expect(check.errors[0]?.line).toBeGreaterThanOrEqual(3);
    expect(checkRuleText('destination: [reviews\n').errors[0]?.path).toBe('(syntax)');
    expect(checkRuleText('   ').errors[0]?.message).toMatch(/empty/);
  });

  it("lints valid rules as the controller does, with the registry's instances", () => {
    const text = ruleToText({ destination: 'reviews', route: { backends: [{ tags: ['version=v9'] }] } }, 'yaml');
    const { errors, remarks } = checkRuleText(text, [{ service: 'reviews', tags: ['version=v1'] }]);
    expect(errors).toEqual([]);
    expect(remarks).toEqual([
      expect.objectContaining({
        path: 'route.backends[0].tags',
        severity: 'warning',
        code: 'unmatched_backend',
        line: 4,
      }),
    ]);
  });

  it('takes a list of rules or a {rules} document, paths then keep their index', () => {
    const list = checkRuleText(JSON.stringify([valid, { ...valid, priority: 'high' }], null, 2));
    expect(list.rules).toHaveLength(2);
    expect(list.errors.map((e) => e.path)).toEqual(['[1].priority']);
    const doc = checkRuleText(JSON.stringify({ rules: [valid] }));
    expect(doc.errors).toEqual([]);
    expect(checkRuleText('rules: 3').errors[0]?.message).toMatch(/must be a rule object/);
  });
});

describe('placing the controller’s issues', () => {
  it('maps the answer of a refused write onto the text', () => {
    const text = ruleToText({ destination: 'reviews', route: { backends: [{ tags: ['v1'], weight: 2 }] } }, 'json');
    expect(placeIssues(text, [{ path: 'rules[0].route.backends[0].weight', message: 'too big' }])).toEqual([
      { path: 'route.backends[0].weight', message: 'too big', line: 9, severity: 'error' },
    ]);
  });

  it('finds header names with dots', () => {
    const text = 'destination: reviews\nmatch:\n  headers:\n    x.trace: "1"\n';
    expect(placeIssues(text, [{ path: 'rules[0].match.headers.x.trace', message: 'bad' }])[0]?.line).toBe(4);
  });
});

describe('helpers', () => {
  it('splits paths', () => {
    expect(pathSegments('rules[0].route.backends[12].tags')).toEqual(['rules', 0, 'route', 'backends', 12, 'tags']);
  });
  it('reads the line of both JSON.parse messages', () => {
    expect(jsonErrorLine('{\n\n x', 'Unexpected token (line 3 column 2)')).toBe(3);
    expect(jsonErrorLine('{\n\n x', 'Unexpected token x in JSON at position 4')).toBe(3);
    expect(jsonErrorLine('{', 'odd')).toBeUndefined();
  });
  it('converts between JSON and YAML, and refuses text that does not parse', () => {
    expect(convertText(JSON.stringify(valid), 'yaml')).toContain('destination: reviews');
    expect(convertText('{', 'yaml')).toBeUndefined();
  });
});
