import { describe, expect, it } from 'vitest';
import { createRng } from '../random/rng.js';
import { compile } from './compile.js';
import { faultsForAttempt } from './faults.js';
import { expectBinomial } from './test-support.js';

// The three examples of Amalgam8's rules documentation, verbatim.
const JASON_REVIEWS_V2 = {
  id: 'jason-reviews-v2',
  priority: 2,
  destination: 'reviews',
  match: { headers: { Cookie: '^(.*?;)?(user=jason)(;.*)?$' } },
  route: { backends: [{ tags: ['version=v2'] }] },
};
const HELLOWORLD_CANARY = {
  destination: 'helloworld',
  priority: 1,
  route: {
    backends: [{ tags: ['version=v2'], weight: 0.25 }, { tags: ['version=v1'] }],
  },
};
const JASON_7S_DELAY = {
  id: 'jason-7s-delay',
  priority: 10,
  destination: 'ratings',
  match: {
    source: { name: 'reviews', tags: ['version=v2'] },
    headers: { Cookie: '^(.*?;)?(user=jason)(;.*)?$' },
  },
  actions: [{ action: 'delay', duration: 7, probability: 1, tags: ['version=v1'] }],
};
// bookinfo's default route, so that non-jason traffic falls through to v1.
const REVIEWS_DEFAULT = {
  id: 'reviews-default',
  priority: 1,
  destination: 'reviews',
  route: { backends: [{ tags: ['version=v1'] }] },
};

describe('Amalgam8 documentation examples', () => {
  it('parse as written', () => {
    const set = compile({ rules: [JASON_REVIEWS_V2, HELLOWORLD_CANARY, JASON_7S_DELAY] });
    expect(set.size).toBe(3);
    expect(set.destinations).toEqual(['helloworld', 'ratings', 'reviews']);
  });

  describe('jason-reviews-v2', () => {
    const set = compile([JASON_REVIEWS_V2, REVIEWS_DEFAULT]);
    const reviews = (cookie?: string) =>
      set.evaluate({ destination: 'reviews', headers: cookie === undefined ? {} : { cookie } });

    it('sends jason to reviews v2', () => {
      for (const cookie of ['user=jason', 'user=jason; theme=dark', 'theme=dark;user=jason']) {
        const d = reviews(cookie);
        expect(d.status).toBe('route');
        expect(d.rule?.id).toBe('jason-reviews-v2');
        expect(d.backend?.tags).toEqual(['version=v2']);
      }
    });

    it('lets everyone else fall through to the next rule', () => {
      for (const cookie of [undefined, 'user=bob', 'user=jasonx', 'xuser=jason']) {
        const d = reviews(cookie);
        expect(d.rule?.id).toBe('reviews-default');
        expect(d.backend?.tags).toEqual(['version=v1']);
      }
    });

    it('without a default rule, a non-matching request is no_match (412)', () => {
      const only = compile([JASON_REVIEWS_V2]);
      expect(only.evaluate({ destination: 'reviews', headers: { cookie: 'user=bob' } }).status).toBe('no_match');
      expect(only.evaluate({ destination: 'details' }).status).toBe('no_rules');
    });

    it('reads the Cookie header from a WHATWG Headers object as well', () => {
      const d = set.evaluate({ destination: 'reviews', headers: new Headers({ Cookie: 'user=jason' }) });
      expect(d.backend?.tags).toEqual(['version=v2']);
    });
  });

  describe('helloworld 25 % v2 / 75 % v1', () => {
    const set = compile([HELLOWORLD_CANARY]);

    it('normalises to shares 0.25 / 0.75', () => {
      const d = set.explain({ destination: 'helloworld' }, createRng(1));
      expect(d.choice?.backends.map((b) => b.share)).toEqual([0.25, 0.75]);
    });

    it('splits traffic within binomial bounds over 10 000 requests', () => {
      const rng = createRng(2017);
      const n = 10_000;
      let v2 = 0;
      for (let i = 0; i < n; i++) {
        const d = set.evaluate({ destination: 'helloworld' }, rng);
        if (d.backend?.tags[0] === 'version=v2') v2++;
      }
      expectBinomial(v2, n, 0.25);
    });
  });

  describe('jason-7s-delay', () => {
    const set = compile([JASON_7S_DELAY]);
    const jason = { cookie: 'user=jason' };
    const fromReviewsV2 = { name: 'reviews', tags: ['version=v2'] };

    it('ratings has no route rules: balance across all instances, with the delay as a candidate', () => {
      const d = set.evaluate({ destination: 'ratings', source: fromReviewsV2, headers: jason });
      expect(d.status).toBe('no_rules');
      expect(d.backend?.tags).toEqual([]);
      expect(d.actions).toHaveLength(1);
      expect(d.actions[0]).toMatchObject({ kind: 'delay', delayMs: 7000, probability: 1, tags: ['version=v1'] });
    });

    it('delays 7 s only attempts that reach a ratings v1 instance', () => {
      const d = set.evaluate({ destination: 'ratings', source: fromReviewsV2, headers: jason });
      expect(faultsForAttempt(d, ['version=v1']).delayMs).toBe(7000);
      expect(faultsForAttempt(d, ['version=v1', 'zone=a']).delayMs).toBe(7000);
      expect(faultsForAttempt(d, ['version=v2']).delayMs).toBe(0);
      expect(faultsForAttempt(d, []).delayMs).toBe(0);
    });

    it('applies only to reviews v2 calling with the jason cookie', () => {
      const cases = [
        { source: { name: 'reviews', tags: ['version=v1'] }, headers: jason },
        { source: { name: 'productpage', tags: ['version=v2'] }, headers: jason },
        { source: fromReviewsV2, headers: { cookie: 'user=bob' } },
        { source: fromReviewsV2, headers: {} },
        { headers: jason },
      ];
      for (const c of cases) {
        const d = set.evaluate({ destination: 'ratings', ...c });
        expect(d.actions).toEqual([]);
        expect(faultsForAttempt(d, ['version=v1']).delayMs).toBe(0);
      }
    });

    it('applies when the selected backend of a route carries version=v1', () => {
      const routed = compile([
        JASON_7S_DELAY,
        { id: 'ratings-v1', destination: 'ratings', route: { backends: [{ tags: ['version=v1'] }] } },
      ]);
      const d = routed.evaluate({ destination: 'ratings', source: fromReviewsV2, headers: jason });
      expect(d.status).toBe('route');
      expect(d.backend?.tags).toEqual(['version=v1']);
      const rng = createRng(7);
      expect(faultsForAttempt(d, d.backend?.tags ?? [], rng).delayMs).toBe(7000);
    });
  });
});
