import { describe, expect, it } from 'vitest';
import { authorizationToText, checkAuthorizationText } from './authorization-text.js';
import { placeIssues } from './rule-text.js';

describe('checkAuthorizationText', () => {
  it('reads a document in JSON or YAML, or a bare list of policies, without its revision', () => {
    const policy = { id: 'a', destination: 'reviews', action: 'allow' };
    expect(checkAuthorizationText(JSON.stringify({ defaultAction: 'deny', policies: [policy], revision: 4 }))).toEqual({
      document: { defaultAction: 'deny', policies: [policy] },
      errors: [],
    });
    expect(checkAuthorizationText('policies:\n  - id: a\n    destination: reviews\n    action: allow\n')).toEqual({
      document: { policies: [policy] },
      errors: [],
    });
    expect(checkAuthorizationText(JSON.stringify([policy])).document).toEqual({ policies: [policy] });
  });

  it('names what is wrong with the text, with its line', () => {
    // (The line of a JSON error is the runtime's to give: browsers do; Node's message may not.)
    expect(checkAuthorizationText('{\n  "policies": [\n}').errors).toMatchObject([{ path: '(syntax)' }]);
    expect(checkAuthorizationText('policies:\n  - id: [a\n').errors).toMatchObject([{ path: '(syntax)', line: 3 }]);
    expect(checkAuthorizationText('{"defaultAction": "deny"}').errors).toMatchObject([
      { path: '(top)', message: 'must be {defaultAction?, policies: [...]} or a list of policies' },
    ]);
    expect(checkAuthorizationText('  ').errors).toMatchObject([{ path: '(top)', message: /is empty/ }]);
  });

  it('starts from the namespace’s policies, and places the controller’s issues at their lines', () => {
    const text = authorizationToText(
      {
        defaultAction: 'allow',
        revision: 3,
        policies: [{ id: 'a', destination: 'reviews', action: 'allow', from: [{ ipBlocks: ['10.0.0.0/33'] }] }],
      },
      'json',
    );
    expect(JSON.parse(text)).not.toHaveProperty('revision');
    const [placed] = placeIssues(text, [{ path: 'policies[0].from[0].ipBlocks[0]', message: 'is not a CIDR' }]);
    expect(placed).toMatchObject({ path: 'policies[0].from[0].ipBlocks[0]', line: 11 });
    expect(text.split('\n')[10]).toContain('10.0.0.0/33');
  });
});
