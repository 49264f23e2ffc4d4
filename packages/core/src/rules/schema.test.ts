import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InvalidArgumentError, isWeftError } from '../errors/index.js';
import { compile } from './compile.js';
import { parseRules } from './parse.js';
import { RuleSchema, RulesDocumentSchema } from './rule-schema.js';

function issuesOf(input: unknown) {
  try {
    compile(input);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError);
    return (err as InvalidArgumentError).issues;
  }
  throw new Error('expected a validation error');
}

describe('rule validation', () => {
  it('lists every problem with its JSON path, not just the first', () => {
    const issues = issuesOf({
      rules: [
        { destination: 'a', route: { backends: [{ tags: ['version=v1'], weight: 1.5 }] } },
        {
          destination: 'b',
          match: { headers: { Cookie: '^(.*?;)?(user=jason' }, method: 'G T' },
          route: {
            backends: [{ weight: 0 }],
            http_req_timeout: '5 parsecs',
            http_req_retries: 1,
            retries: { attempts: 2 },
          },
        },
        {
          destination: 'c',
          actions: [
            { action: 'delay', duration: -1, probability: 2 },
            { action: 'abort', return_code: 42 },
            { action: 'trace' },
            { action: 'explode' },
          ],
          colour: 'red',
        },
        {
          destination: 'd',
          route: { backends: [{ lb_type: 'random', hash_key: { header: 'x-user' } }], uri: { prefix_rewrite: '/' } },
        },
        { destination: 'e', route: { backends: [{}] }, actions: [{ action: 'trace', log_value: 'x' }] },
        { route: { backends: [{}] } },
        {
          destination: 'f',
          match: { cookies: { user: 'jason' }, headers: { 'x-a': { exact: 'a', prefix: 'b' }, 'x-b': 5 } },
          route: { backends: [] },
        },
      ],
    });
    expect(Object.fromEntries(issues.map((i) => [i.path, i.message]))).toEqual({
      'rules[0].route.backends[0].weight': 'must be between 0 and 1',
      'rules[1].match.headers.Cookie': 'invalid regular expression "^(.*?;)?(user=jason": Unterminated group',
      'rules[1].match.method': 'must be an HTTP method token such as GET',
      'rules[1].route.http_req_timeout': 'must be seconds or a duration like "250ms", "1.5s", "1m30s"',
      'rules[1].route.http_req_retries': 'give http_req_retries or retries, not both',
      'rules[1].route.backends': 'every backend has weight 0; at least one must receive traffic',
      'rules[2].actions[0].duration': 'must not be negative',
      'rules[2].actions[0].probability': 'must be between 0 and 1',
      'rules[2].actions[1].return_code': 'must be an HTTP status 100..599, or -5..-1 to reset the connection',
      'rules[2].actions[2].log_value': 'is required',
      'rules[2].actions[3].action': "Invalid discriminator value. Expected 'delay' | 'abort' | 'trace'",
      'rules[2]': 'Unrecognized key: "colour"',
      'rules[3].route.backends[0].hash_key': 'only applies with lb_type ring_hash or maglev (lb_type is "random")',
      'rules[3].route.uri.prefix_rewrite':
        'needs a prefix to replace: set uri.prefix, uri.path, match.path.prefix or match.path.exact',
      'rules[4]': 'give route or actions, not both',
      'rules[5].destination': 'is required',
      'rules[6].match.cookies.user': 'Invalid input: expected object, received string',
      'rules[6].match.headers.x-a': 'give exactly one of exact, prefix, regex, present, absent',
      'rules[6].match.headers.x-b': 'must be a string or object',
      'rules[6].route.backends': 'must list at least one backend',
    });
    expect(issues).toHaveLength(20);
  });

  it('says "is required" for a missing field, whatever its type', () => {
    const issues = issuesOf([{ destination: 'a', actions: [{ action: 'delay' }] }]);
    expect(issues).toEqual([{ path: 'rules[0].actions[0].duration', message: 'is required' }]);
  });

  it('reports a regex inside the object form at its own path', () => {
    const issues = issuesOf([
      { destination: 'a', match: { headers: { 'User-Agent': { regex: '[' } } }, route: { backends: [{}] } },
    ]);
    expect(issues).toEqual([
      {
        path: 'rules[0].match.headers.User-Agent.regex',
        message: 'invalid regular expression "[": Unterminated character class',
      },
    ]);
  });

  it('throws a coded error whose message names the paths', () => {
    try {
      compile([{ destination: 'a', route: { backends: [{ weight: 2 }] } }]);
      expect.unreachable();
    } catch (err) {
      expect(isWeftError(err, 'WEFT_ERR_INVALID_ARGUMENT')).toBe(true);
      expect((err as Error).message).toBe('Invalid rules: rules[0].route.backends[0].weight: must be between 0 and 1');
      expect((err as InvalidArgumentError).status).toBe(400);
    }
  });

  it('accepts the extensions', () => {
    const doc = parseRules({
      revision: 4,
      rules: [
        {
          id: 'everything',
          priority: 5,
          tags: ['team=checkout'],
          destination: 'reviews',
          match: {
            source: { name: 'productpage', tags: ['version=v1'] },
            headers: {
              Cookie: '^(.*?;)?(user=jason)(;.*)?$',
              'x-canary': { exact: 'yes' },
              'x-debug': { present: true },
            },
            cookies: { session: { regex: '^[a-f0-9]+$' } },
            path: { prefix: '/api/' },
            method: ['GET', 'HEAD'],
            query: { lang: { exact: 'en' } },
          },
          route: {
            backends: [
              {
                name: 'v2',
                tags: ['version=v2'],
                weight: 0.5,
                lb_type: 'ring_hash',
                hash_key: { cookie: 'session' },
                resilience: { max_connections: 10, sleep_window: '45s', consecutive_errors: 3 },
              },
              { tags: ['version=v1'], lb_type: 'peak_ewma' },
            ],
            http_req_timeout: '2.5s',
            retries: {
              attempts: 3,
              per_try_timeout: 0.5,
              retry_on: ['gateway-error', 'reset'],
              retriable_status_codes: [409],
              backoff: { base: '10ms', max: '1s' },
            },
            uri: { prefix: '/api/', prefix_rewrite: '/' },
            mirror: { tags: ['version=v3'], percentage: 10 },
          },
        },
      ],
    });
    expect(doc.revision).toBe(4);
    expect(doc.rules[0]?.route?.backends[0]?.hash_key).toEqual({ cookie: 'session' });
  });

  it('accepts the extended example of the README', () => {
    const md = readFileSync(new URL('./README.md', import.meta.url), 'utf8');
    const example = /```json\n([\s\S]*?)```/.exec(md)?.[1];
    expect(example).toBeDefined();
    const d = compile([JSON.parse(example ?? '')]).evaluate({
      destination: 'reviews',
      source: { name: 'productpage' },
      method: 'GET',
      path: '/reviews/1',
      headers: { 'x-canary': 'yes', 'user-agent': 'Android', cookie: 'user=jason; session=abc' },
    });
    expect(d).toMatchObject({ status: 'route', rewritePath: '/1', timeoutMs: 2000 });
  });

  it('generates a JSON Schema for the rules document (input side)', () => {
    const json = z.toJSONSchema(RulesDocumentSchema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' });
    const text = JSON.stringify(json);
    for (const id of ['Rule', 'RuleMatch', 'RuleRoute', 'RuleBackend', 'RuleAction', 'RuleHeaderMatch', 'RuleDuration'])
      expect(text).toContain(`"${id}"`);
    const rule = z.toJSONSchema(RuleSchema, { io: 'input' }) as { $defs: Record<string, { required?: string[] }> };
    expect(rule.$defs.Rule?.required).toEqual(['destination']);
  });
});
