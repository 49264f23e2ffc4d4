/** Reading bookinfo's product page (its JSON form) and saying in one line what it shows. */

/** A review as reviews returns it: a rating only from v2 and v3, or why the rating is missing. */
interface Review {
  reviewer: string;
  text: string;
  rating?: { stars: number; color: string } | { error: string };
}

/** productpage's `/api/v1/products/0`. */
export interface ProductView {
  product: { id: number; title: string };
  details: { author: string; pages: number; type: string } | { error: string };
  reviews: { version: string; reviews: Review[] } | { error: string; message: string };
  /** How long productpage took to build it. */
  elapsed_ms: number;
}

/** One load of the product page: the view, and how long the call through the gateway took. */
export interface PageLoad {
  readonly view: ProductView;
  readonly ms: number;
}

/**
 * GET the product page's JSON through the gateway, as `user` when given (the `user=<name>`
 * cookie), with `requestId` as its `x-request-id` when given (to find its hops in access logs).
 */
export async function loadProduct(productApi: string, user?: string, requestId?: string): Promise<PageLoad> {
  const started = performance.now();
  const headers: Record<string, string> = {};
  if (user !== undefined) headers.cookie = `user=${user}`;
  if (requestId !== undefined) headers['x-request-id'] = requestId;
  const res = await fetch(productApi, { headers, signal: AbortSignal.timeout(20_000) });
  if (!res.ok) throw new Error(`GET ${productApi}: HTTP ${res.status} ${await res.text()}`);
  const view = (await res.json()) as ProductView;
  return { view, ms: Math.round(performance.now() - started) };
}

/** The reviews version that served the page, or `unavailable`. */
export function reviewsVersion(view: ProductView): string {
  return 'version' in view.reviews ? view.reviews.version : 'unavailable';
}

/**
 * What the page shows, in one line: `details ✓, reviews v2: ★★★★★ ★★★★☆ (black)`,
 * `reviews v1: no stars`, `reviews v3: ratings unavailable`, or `reviews unavailable (…)`.
 */
export function describeProduct(view: ProductView): string {
  const details = 'error' in view.details ? `details unavailable (${view.details.error})` : 'details ✓';
  if (!('version' in view.reviews)) return `${details}, reviews unavailable (${view.reviews.error})`;
  const ratings = view.reviews.reviews.map((r) => r.rating);
  let stars: string;
  if (ratings.every((r) => r === undefined)) stars = 'no stars';
  else if (ratings.some((r) => r !== undefined && 'error' in r)) stars = 'ratings unavailable';
  else {
    const given = ratings.filter((r): r is { stars: number; color: string } => r !== undefined && 'stars' in r);
    stars = `${given.map((r) => '★'.repeat(r.stars) + '☆'.repeat(5 - r.stars)).join(' ')} (${given[0]?.color})`;
  }
  return `${details}, reviews ${view.reviews.version}: ${stars}`;
}
