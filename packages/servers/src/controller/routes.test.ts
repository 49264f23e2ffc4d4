import { afterEach, describe, expect, it } from 'vitest';
import type { StoredRule } from '../rules-store/types.js';
import { type ControllerServer, createControllerServer } from './server.js';
import type { ControllerServerOptions } from './server-options.js';
import { defaultRoute, jasonRoute, json, ratingsDelay, UUID_V4 } from './test-support.js';

const servers: ControllerServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(options: ControllerServerOptions = {}): Promise<ControllerServer> {
  const app = await createControllerServer(options);
  servers.push(app);
  return app;
}

interface Written {
  ids: string[];
  removed: string[];
  revision: number;
  warnings: { code: string; severity: string; message: string; id: string; path?: string }[];
}
interface RulesBody {
  rules: StoredRule[];
  revision: number;
}

describe('POST /v1/rules', () => {
  it('adds rules: 201 with their ids (a UUIDv4 when none is given), the revision and lint warnings', async () => {
    const app = await server();
    const { id: _, ...anonymous } = defaultRoute;
    const res = await app.inject({ method: 'POST', url: '/v1/rules', payload: { rules: [jasonRoute, anonymous] } });
    expect(res.statusCode).toBe(201);
    const body = json<Written>(res);
    expect(body.ids[0]).toBe('jason-reviews-v2');
    expect(body.ids[1]).toMatch(UUID_V4);
    expect(body.revision).toBe(1);
    expect(res.headers['x-weft-index']).toBe('1');
    // Amalgam8's cookie idiom only matches when the cookie comes first: said, with the body's path.
    expect(body.warnings).toContainEqual(
      expect.objectContaining({
        code: 'cookie_regex_needs_space',
        severity: 'info',
        id: 'jason-reviews-v2',
        path: 'rules[0].match.headers.Cookie',
      }),
    );
    const got = json<RulesBody>(await app.inject({ url: '/v1/rules' }));
    expect(got.revision).toBe(1);
    expect(got.rules).toEqual([jasonRoute, { id: body.ids[1], ...anonymous }]);
  });

  it("accepts Amalgam8's Go client body (revision 0 beside the rules) and a bare array", async () => {
    const app = await server();
    expect(
      (await app.inject({ method: 'POST', url: '/v1/rules', payload: { rules: [jasonRoute], revision: 0 } }))
        .statusCode,
    ).toBe(201);
    expect((await app.inject({ method: 'POST', url: '/v1/rules', payload: [defaultRoute] })).statusCode).toBe(201);
    expect(json<RulesBody>(await app.inject({ url: '/v1/rules' })).rules.map((r) => r.id)).toEqual([
      'jason-reviews-v2',
      'reviews-default',
    ]);
  });

  it('refuses invalid rules with 400 naming every bad field by path, and stores nothing', async () => {
    const app = await server();
    const res = await app.inject({
      method: 'POST',
      url: '/v1/rules',
      payload: {
        rules: [
          { destination: 'reviews', route: { backends: [{ tags: ['v1'], weight: 2 }] }, prioirty: 3 },
          { id: 'a', destination: 'ratings', actions: [{ action: 'abort', return_code: 42 }] },
          { id: 'a', destination: 'details', match: { headers: { Cookie: '(' } }, route: { backends: [] } },
        ],
      },
    });
    expect(res.statusCode).toBe(400);
    const body = json<{ code: string; status: number; issues: { path: string; message: string }[] }>(res);
    expect(body.code).toBe('WEFT_ERR_INVALID_ARGUMENT');
    expect(body.status).toBe(400);
    const paths = body.issues.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'rules[0].route.backends[0].weight',
        'rules[1].actions[0].return_code',
        'rules[2].match.headers.Cookie',
        'rules[2].id',
      ]),
    );
    expect(body.issues.find((i) => i.path === 'rules[2].id')?.message).toBe('duplicate id "a" (also rules[1])');
    expect(body.issues.some((i) => i.message.includes('prioirty'))).toBe(true);
    expect(json<RulesBody>(await app.inject({ url: '/v1/rules' }))).toEqual({ rules: [], revision: 0 });
  });

  it('refuses an empty list, a missing body and malformed JSON with 400', async () => {
    const app = await server();
    const empty = await app.inject({ method: 'POST', url: '/v1/rules', payload: { rules: [] } });
    expect(empty.statusCode).toBe(400);
    expect(json(empty).issues).toEqual([{ path: 'rules', message: 'must list at least one rule' }]);
    const none = await app.inject({ method: 'POST', url: '/v1/rules' });
    expect(none.statusCode).toBe(400);
    const bad = await app.inject({
      method: 'POST',
      url: '/v1/rules',
      headers: { 'content-type': 'application/json' },
      payload: '{"rules": [',
    });
    expect(bad.statusCode).toBe(400);
    expect(json(bad).code).toBe('WEFT_ERR_INVALID_ARGUMENT');
  });

  it('refuses an id already stored with 409, naming it, and changes nothing', async () => {
    const app = await server();
    await app.inject({ method: 'POST', url: '/v1/rules', payload: { rules: [jasonRoute] } });
    const res = await app.inject({ method: 'POST', url: '/v1/rules', payload: { rules: [defaultRoute, jasonRoute] } });
    expect(res.statusCode).toBe(409);
    expect(json(res)).toMatchObject({ code: 'WEFT_ERR_RULE_CONFLICT', status: 409, ids: ['jason-reviews-v2'] });
    expect(json<RulesBody>(await app.inject({ url: '/v1/rules' })).revision).toBe(1);
  });

  it('warns when a new rule makes a stored one unreachable, naming the stored rule by id', async () => {
    const app = await server();
    await app.inject({ method: 'POST', url: '/v1/rules', payload: { rules: [jasonRoute] } });
    const catchAll = {
      id: 'all-v3',
      priority: 5,
      destination: 'reviews',
      route: { backends: [{ tags: ['version=v3'] }] },
    };
    const body = json<Written>(await app.inject({ method: 'POST', url: '/v1/rules', payload: { rules: [catchAll] } }));
    const shadowed = body.warnings.find((w) => w.code === 'shadowed_rule');
    expect(shadowed).toMatchObject({ severity: 'warning', id: 'jason-reviews-v2' });
    expect(shadowed?.path).toBeUndefined();
    expect(shadowed?.message).toContain('"all-v3" (rules[0])');
  });

  it('with known instances, warns about tags no instance carries', async () => {
    const app = await server({ instances: () => [{ service: 'reviews', tags: ['version=v1'] }] });
    const body = json<Written>(
      await app.inject({
        method: 'POST',
        url: '/v1/rules',
        payload: { rules: [defaultRoute, jasonRoute, ratingsDelay] },
      }),
    );
    expect(body.warnings).toContainEqual(
      expect.objectContaining({
        code: 'unmatched_backend',
        id: 'jason-reviews-v2',
        path: 'rules[1].route.backends[0].tags',
      }),
    );
    expect(body.warnings).toContainEqual(
      expect.objectContaining({ code: 'unknown_destination', id: 'jason-7s-delay' }),
    );
  });
});

describe('GET /v1/rules filters (Amalgam8: id and destination any of, tag all of; each repeatable)', () => {
  async function seeded(): Promise<ControllerServer> {
    const app = await server();
    await app.inject({
      method: 'POST',
      url: '/v1/rules',
      payload: {
        rules: [
          { ...jasonRoute, tags: ['bookinfo', 'user'] },
          { ...defaultRoute, tags: ['bookinfo'] },
          { ...ratingsDelay, tags: ['bookinfo', 'user', 'recipe=1'] },
          { id: 'details-v1', destination: 'details', route: { backends: [{ tags: ['v1'] }] } },
        ],
      },
    });
    return app;
  }
  const ids = async (app: ControllerServer, query: string) =>
    json<RulesBody>(await app.inject({ url: `/v1/rules${query}` })).rules.map((r) => r.id);

  it('filters by id, tag, destination and their combinations', async () => {
    const app = await seeded();
    expect(await ids(app, '?id=details-v1&id=jason-7s-delay')).toEqual(['jason-7s-delay', 'details-v1']);
    expect(await ids(app, '?tag=user')).toEqual(['jason-reviews-v2', 'jason-7s-delay']);
    expect(await ids(app, '?tag=user&tag=recipe=1')).toEqual(['jason-7s-delay']);
    expect(await ids(app, '?destination=reviews&destination=details')).toEqual([
      'jason-reviews-v2',
      'reviews-default',
      'details-v1',
    ]);
    expect(await ids(app, '?destination=reviews&tag=user')).toEqual(['jason-reviews-v2']);
    expect(await ids(app, '?id=nope')).toEqual([]);
  });

  it('GET /v1/rules/routes and /actions group by destination: {services: {dest: [rules]}}', async () => {
    const app = await seeded();
    const routes = json<{ services: Record<string, StoredRule[]>; revision: number }>(
      await app.inject({ url: '/v1/rules/routes' }),
    );
    expect(Object.keys(routes.services)).toEqual(['reviews', 'details']);
    expect(routes.services.reviews?.map((r) => r.id)).toEqual(['jason-reviews-v2', 'reviews-default']);
    expect(routes.revision).toBe(1);
    const actions = json<{ services: Record<string, StoredRule[]> }>(await app.inject({ url: '/v1/rules/actions' }));
    expect(Object.keys(actions.services)).toEqual(['ratings']);
    const tagged = json<{ services: Record<string, StoredRule[]> }>(
      await app.inject({ url: '/v1/rules/routes?tag=user' }),
    );
    expect(Object.keys(tagged.services)).toEqual(['reviews']);
  });

  it('GET /v1/rules/routes/{dest} and /actions/{dest} answer {rules, revision} of that kind only', async () => {
    const app = await seeded();
    await app.inject({
      method: 'POST',
      url: '/v1/rules',
      payload: { rules: [{ ...ratingsDelay, id: 'r2', destination: 'reviews' }] },
    });
    const routes = json<RulesBody>(await app.inject({ url: '/v1/rules/routes/reviews' }));
    expect(routes).toMatchObject({ revision: 2 });
    expect(routes.rules.map((r) => r.id)).toEqual(['jason-reviews-v2', 'reviews-default']);
    expect(json<RulesBody>(await app.inject({ url: '/v1/rules/actions/reviews' })).rules.map((r) => r.id)).toEqual([
      'r2',
    ]);
    expect(json<RulesBody>(await app.inject({ url: '/v1/rules/routes/unknown' }))).toEqual({ rules: [], revision: 2 });
  });
});

describe('PUT /v1/rules (update by id)', () => {
  it('updates rules in place and bumps the revision — the update Amalgam8 once forgot to count', async () => {
    const app = await server();
    await app.inject({ method: 'POST', url: '/v1/rules', payload: { rules: [jasonRoute, defaultRoute] } });
    const changed = {
      ...defaultRoute,
      route: { backends: [{ tags: ['version=v2'], weight: 0.1 }, { tags: ['version=v1'] }] },
    };
    const res = await app.inject({ method: 'PUT', url: '/v1/rules', payload: { rules: [changed] } });
    expect(res.statusCode).toBe(200);
    expect(json<Written>(res)).toMatchObject({ ids: ['reviews-default'], revision: 2 });
    expect(json<RulesBody>(await app.inject({ url: '/v1/rules' }))).toEqual({
      rules: [jasonRoute, changed],
      revision: 2,
    });
  });

  it('needs an id on every rule (400) and refuses unknown ids (404), changing nothing', async () => {
    const app = await server();
    await app.inject({ method: 'POST', url: '/v1/rules', payload: { rules: [jasonRoute] } });
    const { id: _, ...noId } = defaultRoute;
    const missing = await app.inject({ method: 'PUT', url: '/v1/rules', payload: { rules: [jasonRoute, noId] } });
    expect(missing.statusCode).toBe(400);
    expect(json(missing).issues).toEqual([{ path: 'rules[1].id', message: 'is required to update a rule' }]);
    const unknown = await app.inject({
      method: 'PUT',
      url: '/v1/rules',
      payload: { rules: [jasonRoute, defaultRoute] },
    });
    expect(unknown.statusCode).toBe(404);
    expect(json(unknown)).toMatchObject({ code: 'WEFT_ERR_UNKNOWN_RULE', ids: ['reviews-default'] });
    expect(json<RulesBody>(await app.inject({ url: '/v1/rules' })).revision).toBe(1);
  });
});

describe('DELETE /v1/rules', () => {
  it('deletes what the filter selects, everything without one; a delete of nothing keeps the revision', async () => {
    const app = await server();
    await app.inject({
      method: 'POST',
      url: '/v1/rules',
      payload: { rules: [jasonRoute, defaultRoute, ratingsDelay] },
    });
    const one = await app.inject({ method: 'DELETE', url: '/v1/rules?id=reviews-default' });
    expect(one.statusCode).toBe(200);
    expect(json(one)).toEqual({ removed: ['reviews-default'], revision: 2 });
    expect(json(await app.inject({ method: 'DELETE', url: '/v1/rules?id=nope' }))).toEqual({
      removed: [],
      revision: 2,
    });
    const all = await app.inject({ method: 'DELETE', url: '/v1/rules' });
    expect(json(all)).toEqual({ removed: ['jason-reviews-v2', 'jason-7s-delay'], revision: 3 });
    expect(json<RulesBody>(await app.inject({ url: '/v1/rules' }))).toEqual({ rules: [], revision: 3 });
  });
});

describe('PUT|DELETE /v1/rules/{routes,actions}/{destination}', () => {
  it('PUT replaces every route rule of the destination (201), keeping its action rules and other destinations', async () => {
    const app = await server();
    const reviewsFault = { ...ratingsDelay, id: 'reviews-fault', destination: 'reviews' };
    const details = { id: 'details-v1', destination: 'details', route: { backends: [{ tags: ['v1'] }] } };
    await app.inject({
      method: 'POST',
      url: '/v1/rules',
      payload: { rules: [jasonRoute, defaultRoute, reviewsFault, details] },
    });
    const newDefault = { priority: 1, route: { backends: [{ tags: ['version=v3'] }] } }; // no destination: the path's
    const res = await app.inject({ method: 'PUT', url: '/v1/rules/routes/reviews', payload: { rules: [newDefault] } });
    expect(res.statusCode).toBe(201);
    const body = json<Written>(res);
    expect(body.ids).toHaveLength(1);
    expect(body.ids[0]).toMatch(UUID_V4);
    expect(body.removed).toEqual(['jason-reviews-v2', 'reviews-default']);
    expect(body.revision).toBe(2);
    const now = json<RulesBody>(await app.inject({ url: '/v1/rules' }));
    expect(now.rules.map((r) => r.id)).toEqual(['reviews-fault', 'details-v1', body.ids[0]]);
    expect(now.rules[2]).toEqual({ id: body.ids[0], destination: 'reviews', ...newDefault });
  });

  it('PUT refuses rules of another destination or kind, naming them; an empty list clears them', async () => {
    const app = await server();
    await app.inject({ method: 'POST', url: '/v1/rules', payload: { rules: [jasonRoute] } });
    const res = await app.inject({
      method: 'PUT',
      url: '/v1/rules/routes/reviews',
      payload: { rules: [{ ...defaultRoute, destination: 'details' }, ratingsDelay] },
    });
    expect(res.statusCode).toBe(400);
    expect(json<{ issues: { path: string }[] }>(res).issues.map((i) => i.path)).toEqual([
      'rules[0].destination',
      'rules[1].destination',
      'rules[1]',
    ]);
    const cleared = await app.inject({ method: 'PUT', url: '/v1/rules/routes/reviews', payload: { rules: [] } });
    expect(cleared.statusCode).toBe(201);
    expect(json(cleared)).toMatchObject({ ids: [], removed: ['jason-reviews-v2'], revision: 2 });
  });

  it('DELETE removes only that kind of that destination', async () => {
    const app = await server();
    const reviewsFault = { ...ratingsDelay, id: 'reviews-fault', destination: 'reviews' };
    await app.inject({
      method: 'POST',
      url: '/v1/rules',
      payload: { rules: [jasonRoute, reviewsFault, ratingsDelay] },
    });
    expect(json(await app.inject({ method: 'DELETE', url: '/v1/rules/actions/reviews' }))).toEqual({
      removed: ['reviews-fault'],
      revision: 2,
    });
    expect(json(await app.inject({ method: 'DELETE', url: '/v1/rules/routes/reviews' }))).toEqual({
      removed: ['jason-reviews-v2'],
      revision: 3,
    });
    expect(json<RulesBody>(await app.inject({ url: '/v1/rules' })).rules.map((r) => r.id)).toEqual(['jason-7s-delay']);
  });

  it("replays a8ctl 0.3's route-set, action-add and traffic-start/step exchanges", async () => {
    const app = await server();
    // route-set reviews --default v1 --selector 'v2(user="jason")'
    const routeSet = {
      rules: [
        {
          destination: 'reviews',
          priority: 2,
          match: { headers: { Cookie: '.*?user=jason' } },
          route: { backends: [{ tags: ['v2'] }] },
        },
        { destination: 'reviews', priority: 1, route: { backends: [{ tags: ['v1'] }] } },
      ],
    };
    expect([200, 201]).toContain(
      (await app.inject({ method: 'PUT', url: '/v1/rules/routes/reviews', payload: routeSet })).statusCode,
    );
    // action-add: GET the destination's action rules, append one, PUT them all back; a8ctl wants exactly 201.
    const current = json<RulesBody>(await app.inject({ url: '/v1/rules/actions/ratings' })).rules;
    const added = {
      destination: 'ratings',
      priority: 10,
      match: { source: { name: 'reviews', tags: ['v2'] }, headers: { Cookie: '.*?user=jason' } },
      actions: [{ action: 'delay', probability: 1, duration: 7, tags: ['v1'] }],
    };
    const put = await app.inject({
      method: 'PUT',
      url: '/v1/rules/actions/ratings',
      payload: { rules: [...current, added] },
    });
    expect(put.statusCode).toBe(201);
    // Again: the rule read back (with its id) goes back in with the new one.
    const again = json<RulesBody>(await app.inject({ url: '/v1/rules/actions/ratings' })).rules;
    expect(again).toHaveLength(1);
    const put2 = await app.inject({
      method: 'PUT',
      url: '/v1/rules/actions/ratings',
      payload: { rules: [...again, { ...added, priority: 20 }] },
    });
    expect(put2.statusCode).toBe(201);
    expect(
      json<RulesBody>(await app.inject({ url: '/v1/rules/actions/ratings' })).rules.map((r) => r.priority),
    ).toEqual([10, 20]);
    // traffic-start reviews v2 --amount 10: GET the routes, change the weight rule, PUT /v1/rules → 200.
    const routes = json<RulesBody>(await app.inject({ url: '/v1/rules/routes/reviews' })).rules;
    const weightRule = routes.find((r) => r.priority === 1) as StoredRule;
    const started = { ...weightRule, route: { backends: [{ tags: ['v2'], weight: 0.1 }, { tags: ['v1'] }] } };
    const step = await app.inject({ method: 'PUT', url: '/v1/rules', payload: { rules: [started] } });
    expect(step.statusCode).toBe(200);
    // action-clear: DELETE /v1/rules/actions/{dest} → 200.
    expect((await app.inject({ method: 'DELETE', url: '/v1/rules/actions/ratings' })).statusCode).toBe(200);
  });
});

describe('revisions and compare-and-set', () => {
  it('bumps the namespace revision once per add, update, replace and delete', async () => {
    const app = await server();
    const revisions: number[] = [];
    const note = async (p: Promise<{ headers: Record<string, unknown> }>) =>
      revisions.push(Number((await p).headers['x-weft-index']));
    await note(app.inject({ method: 'POST', url: '/v1/rules', payload: { rules: [jasonRoute, defaultRoute] } }));
    await note(app.inject({ method: 'PUT', url: '/v1/rules', payload: { rules: [jasonRoute] } }));
    await note(app.inject({ method: 'PUT', url: '/v1/rules/routes/reviews', payload: { rules: [defaultRoute] } }));
    await note(app.inject({ method: 'DELETE', url: '/v1/rules/routes/reviews' }));
    await note(app.inject({ url: '/v1/rules' }));
    expect(revisions).toEqual([1, 2, 3, 4, 4]);
  });

  it('If-Match: "<revision>" makes a write conditional: 412 and nothing written when the revision moved', async () => {
    const app = await server();
    await app.inject({ method: 'POST', url: '/v1/rules', payload: { rules: [jasonRoute] } });
    const stale = await app.inject({
      method: 'PUT',
      url: '/v1/rules/routes/reviews',
      headers: { 'if-match': '"0"' },
      payload: { rules: [defaultRoute] },
    });
    expect(stale.statusCode).toBe(412);
    expect(json(stale)).toMatchObject({ code: 'WEFT_ERR_REVISION_MISMATCH', revision: 1 });
    const fresh = await app.inject({
      method: 'PUT',
      url: '/v1/rules/routes/reviews',
      headers: { 'if-match': '"1"' },
      payload: { rules: [defaultRoute] },
    });
    expect(fresh.statusCode).toBe(201);
    const bad = await app.inject({ method: 'DELETE', url: '/v1/rules', headers: { 'if-match': 'yesterday' } });
    expect(bad.statusCode).toBe(400);
    expect(json(bad).issues).toEqual([expect.objectContaining({ path: 'If-Match' })]);
  });
});

describe('explain', () => {
  async function bookinfo(): Promise<ControllerServer> {
    const app = await server();
    await app.inject({
      method: 'POST',
      url: '/v1/rules',
      payload: { rules: [jasonRoute, defaultRoute, ratingsDelay] },
    });
    return app;
  }

  it('GET: the decision, the rule that matched and why the others did not', async () => {
    const app = await bookinfo();
    const res = await app.inject({ url: '/v1/rules/explain?destination=reviews&path=/reviews/1&method=GET' });
    expect(res.statusCode).toBe(200);
    const e = json<{
      status: string;
      revision: number;
      routeRules: { rule: { id: string; index: number }; outcome: string; failures: { condition: string }[] }[];
      decision: { status: string; rule: { id: string }; backend: { tags: string[] } };
      text: string;
    }>(res);
    expect(e.status).toBe('route');
    expect(e.revision).toBe(1);
    expect(e.routeRules.map((t) => [t.rule.id, t.rule.index, t.outcome])).toEqual([
      ['jason-reviews-v2', 0, 'not_matched'],
      ['reviews-default', 1, 'matched'],
    ]);
    expect(e.routeRules[0]?.failures.map((f) => f.condition)).toEqual(['match.headers.Cookie']);
    expect(e.decision).toMatchObject({
      status: 'route',
      rule: { id: 'reviews-default' },
      backend: { tags: ['version=v1'] },
    });
    expect(e.text).toContain('destination "reviews": route');
  });

  it('GET with headers and source; POST with the same request as JSON gives the same answer', async () => {
    const app = await bookinfo();
    const get = json(
      await app.inject({
        url: '/v1/rules/explain?destination=ratings&source=reviews&source_tag=version=v2&header=Cookie:%20user%3Djason&seed=7',
      }),
    );
    const post = json(
      await app.inject({
        method: 'POST',
        url: '/v1/rules/explain',
        payload: {
          destination: 'ratings',
          source: { name: 'reviews', tags: ['version=v2'] },
          headers: { Cookie: 'user=jason' },
          seed: 7,
        },
      }),
    );
    expect(post).toEqual(get);
    expect(get).toMatchObject({
      status: 'no_rules',
      actionRules: [{ rule: { id: 'jason-7s-delay' }, outcome: 'matched' }],
      decision: { actions: [{ kind: 'delay', delayMs: 7000, tags: ['version=v1'] }] },
    });
  });

  it('a seed makes the weighted draw reproducible', async () => {
    const app = await server();
    await app.inject({
      method: 'POST',
      url: '/v1/rules',
      payload: {
        rules: [{ destination: 'helloworld', route: { backends: [{ tags: ['v2'], weight: 0.5 }, { tags: ['v1'] }] } }],
      },
    });
    const draw = async (seed: number) =>
      json<{ choice: { roll: number; chosen: number } }>(
        await app.inject({ url: `/v1/rules/explain?destination=helloworld&seed=${seed}` }),
      ).choice;
    expect(await draw(11)).toEqual(await draw(11));
    const rolls = new Set(await Promise.all([1, 2, 3, 4, 5].map(async (s) => (await draw(s)).roll)));
    expect(rolls.size).toBeGreaterThan(1);
  });

  it('names bad input by field: 400', async () => {
    const app = await bookinfo();
    const get = await app.inject({ url: '/v1/rules/explain?header=nocolon&seed=x' });
    expect(get.statusCode).toBe(400);
    expect(json<{ issues: { path: string }[] }>(get).issues.map((i) => i.path)).toEqual([
      'destination',
      'header',
      'seed',
    ]);
    const post = await app.inject({
      method: 'POST',
      url: '/v1/rules/explain',
      payload: { destination: 'reviews', source: { tags: [] }, headers: { a: 1 }, cookie: 'x' },
    });
    expect(post.statusCode).toBe(400);
    expect(json<{ issues: { path: string }[] }>(post).issues.map((i) => i.path)).toEqual([
      'cookie',
      'source.name',
      'headers.a',
    ]);
  });
});

describe('tenants', () => {
  it('tenant B never sees or changes tenant A’s rules, on any route', async () => {
    const app = await server({ auth: [{ type: 'trusted' }] });
    const as = (ns: string) => ({ authorization: `Bearer ${ns}` });
    const a = as('tenant-a');
    const b = as('tenant-b');
    await app.inject({
      method: 'POST',
      url: '/v1/rules',
      headers: a,
      payload: { rules: [jasonRoute, defaultRoute, ratingsDelay] },
    });
    const aBefore = await app.inject({ url: '/v1/rules', headers: a });

    // Reads: B sees an empty namespace everywhere, even naming A's ids and destinations.
    const reads = [
      '/v1/rules',
      '/v1/rules?id=jason-reviews-v2',
      '/v1/rules?destination=reviews',
      '/v1/rules/routes',
      '/v1/rules/actions',
      '/v1/rules/routes/reviews',
      '/v1/rules/actions/ratings',
    ];
    for (const url of reads) {
      const body = json(await app.inject({ url, headers: b }));
      expect(body.revision, url).toBe(0);
      expect(body.rules ?? Object.values(body.services as object), url).toEqual([]);
    }
    const explained = json(await app.inject({ url: '/v1/rules/explain?destination=reviews', headers: b }));
    expect(explained).toMatchObject({ status: 'no_rules', routeRules: [] });
    const explainedPost = json(
      await app.inject({ method: 'POST', url: '/v1/rules/explain', headers: b, payload: { destination: 'reviews' } }),
    );
    expect(explainedPost).toMatchObject({ status: 'no_rules' });

    // Writes: none reaches A's rules.
    expect(
      (await app.inject({ method: 'PUT', url: '/v1/rules', headers: b, payload: { rules: [jasonRoute] } })).statusCode,
    ).toBe(404);
    expect(
      json(await app.inject({ method: 'DELETE', url: '/v1/rules?id=jason-reviews-v2', headers: b })).removed,
    ).toEqual([]);
    expect(json(await app.inject({ method: 'DELETE', url: '/v1/rules', headers: b })).removed).toEqual([]);
    expect(json(await app.inject({ method: 'DELETE', url: '/v1/rules/routes/reviews', headers: b })).removed).toEqual(
      [],
    );
    expect(json(await app.inject({ method: 'DELETE', url: '/v1/rules/actions/ratings', headers: b })).removed).toEqual(
      [],
    );
    // B's own rules may reuse A's ids: ids are per namespace.
    const own = await app.inject({
      method: 'PUT',
      url: '/v1/rules/routes/reviews',
      headers: b,
      payload: { rules: [defaultRoute] },
    });
    expect(json(own)).toMatchObject({ ids: ['reviews-default'], removed: [], revision: 1 });
    expect(
      (await app.inject({ method: 'POST', url: '/v1/rules', headers: b, payload: { rules: [jasonRoute] } })).statusCode,
    ).toBe(201);

    // A is exactly as before: same rules, same revision.
    expect((await app.inject({ url: '/v1/rules', headers: a })).body).toBe(aBefore.body);
    // No credentials: 401, nothing served.
    const anonymous = await app.inject({ url: '/v1/rules' });
    expect(anonymous.statusCode).toBe(401);
    expect(json(anonymous).code).toBe('WEFT_ERR_UNAUTHORIZED');
  });
});

describe('health', () => {
  it('answers 200 without credentials, 503 once the store is unusable', async () => {
    const { MemoryRulesStore } = await import('../rules-store/memory-store.js');
    const store = new MemoryRulesStore();
    const app = await server({ auth: [{ type: 'trusted' }], rulesStore: store });
    const ok = await app.inject({ url: '/health' });
    expect(ok.statusCode).toBe(200);
    expect(json(ok)).toEqual({ status: 'ok' });
    await store.close();
    const down = await app.inject({ url: '/health' });
    expect(down.statusCode).toBe(503);
    expect(json(down)).toMatchObject({ status: 'unavailable', code: 'WEFT_ERR_CLOSED' });
  });
});
