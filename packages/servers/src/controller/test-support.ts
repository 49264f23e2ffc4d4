import type { LightMyRequestResponse } from 'fastify';

/** Amalgam8's bookinfo rules, as its docs and a8ctl wrote them. */
export const jasonRoute = {
  id: 'jason-reviews-v2',
  priority: 2,
  destination: 'reviews',
  match: { headers: { Cookie: '^(.*?;)?(user=jason)(;.*)?$' } },
  route: { backends: [{ tags: ['version=v2'] }] },
};
export const defaultRoute = {
  id: 'reviews-default',
  priority: 1,
  destination: 'reviews',
  route: { backends: [{ tags: ['version=v1'] }] },
};
export const ratingsDelay = {
  id: 'jason-7s-delay',
  priority: 10,
  destination: 'ratings',
  match: { source: { name: 'reviews', tags: ['version=v2'] }, headers: { Cookie: '^(.*?;)?(user=jason)(;.*)?$' } },
  actions: [{ action: 'delay', duration: 7, probability: 1, tags: ['version=v1'] }],
};

/** The JSON body of an injected response. */
export function json<T = Record<string, unknown>>(res: LightMyRequestResponse): T {
  return res.json() as T;
}

export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
