import {
  type Clock,
  DEFAULT_RATE_LIMIT_MAX_SOURCES,
  RATE_LIMIT_SOURCES,
  RateLimiter,
  type RateLimitSettings,
  type ValidationIssue,
} from '@weft/core';
import { MeshRequestError } from '../errors.js';

/**
 * A proxy-wide rate limit (`rateLimit` of MeshAgent and Sidecar options): one token bucket per
 * destination service — and per source with `perSource` — for calls whose route sets no
 * `rate_limit` of its own. Local to the proxy: N proxies admit up to N × the rate.
 */
export interface RateLimitOptions {
  /** Refill rate, requests per second (give this or `ratePerMinute`). */
  ratePerSecond?: number;
  /** Refill rate, requests per minute (give this or `ratePerSecond`). */
  ratePerMinute?: number;
  /** Bucket size: requests admitted at once after a quiet period. Default the rate per its unit, at least 1. */
  burst?: number;
  /**
   * One bucket per calling service (`service`: the call's source as the rules see it) or per
   * client IP address (`client_ip`: the peer of the sidecar's connection, never a header).
   * Default: one bucket per destination service.
   */
  perSource?: 'service' | 'client_ip';
  /** With `perSource`: buckets kept at most per service, least recently used dropped first. Default 10 000. */
  maxSources?: number;
}

/** What {@link RateLimits} calls the proxy-wide limit's buckets (rule limits are named by their rule). */
export const PROXY_SCOPE = 'proxy';

const isPositive = (v: unknown): v is number => typeof v === 'number' && v > 0 && Number.isFinite(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1;

/** The problems of a `rateLimit` option, each naming its field under `path`. */
export function rateLimitIssues(o: RateLimitOptions | undefined, path = 'rateLimit'): ValidationIssue[] {
  if (o === undefined) return [];
  if (o === null || typeof o !== 'object') return [{ path, message: 'must be an object' }];
  const issues: ValidationIssue[] = [];
  if ((o.ratePerSecond === undefined) === (o.ratePerMinute === undefined))
    issues.push({ path, message: 'give exactly one of ratePerSecond, ratePerMinute' });
  for (const key of ['ratePerSecond', 'ratePerMinute'] as const)
    if (o[key] !== undefined && !isPositive(o[key]))
      issues.push({
        path: `${path}.${key}`,
        message: `must be a number greater than 0 (got ${JSON.stringify(o[key])})`,
      });
  for (const key of ['burst', 'maxSources'] as const)
    if (o[key] !== undefined && !isCount(o[key]))
      issues.push({ path: `${path}.${key}`, message: `must be a whole number >= 1 (got ${JSON.stringify(o[key])})` });
  if (o.perSource !== undefined && !(RATE_LIMIT_SOURCES as readonly string[]).includes(o.perSource))
    issues.push({ path: `${path}.perSource`, message: `must be one of ${RATE_LIMIT_SOURCES.join(', ')}` });
  return issues;
}

/** A validated `rateLimit` option as core's settings (the shape rules compile to). */
export function rateLimitSettings(o: RateLimitOptions): RateLimitSettings {
  const count = o.ratePerSecond ?? o.ratePerMinute ?? 1;
  return Object.freeze({
    ratePerSecond: o.ratePerSecond ?? count / 60,
    burst: o.burst ?? Math.max(1, Math.ceil(count)),
    perSource: o.perSource ?? 'none',
    maxSources: o.maxSources ?? DEFAULT_RATE_LIMIT_MAX_SOURCES,
    scope: PROXY_SCOPE,
  });
}

/**
 * The token buckets of one limit for one destination service: a single bucket, or one per
 * source in a map bounded by `maxSources` that drops the least recently used first, so a flood of
 * client addresses costs at most `maxSources` buckets. A source dropped and seen again starts
 * with a full bucket: the bound protects memory, at the price of a burst for a long-quiet source.
 */
export class RateLimitGroup {
  readonly settings: RateLimitSettings;
  private readonly clock: Clock;
  private readonly single: RateLimiter | undefined;
  private readonly bySource: Map<string, RateLimiter> | undefined;

  constructor(settings: RateLimitSettings, clock: Clock) {
    this.settings = settings;
    this.clock = clock;
    if (settings.perSource === 'none') this.single = this.bucket();
    else this.bySource = new Map();
  }

  /** Buckets held (1 for a limit not kept per source). */
  get size(): number {
    return this.bySource?.size ?? 1;
  }

  /**
   * Takes a token for a call from the calling service `source` (its name as the rules see it) at
   * `clientIp` (the peer of the proxy's connection); a limit kept per source reads one of them,
   * and a call without it shares the bucket of the unknown source.
   * @returns 0 when admitted, else the milliseconds until the source's bucket has a token (> 0).
   */
  take(source: string | undefined, clientIp: string | undefined): number {
    const bucket = this.single ?? this.sourceBucket(this.settings.perSource === 'service' ? source : clientIp);
    if (bucket.tryTake()) return 0;
    return Math.max(1, bucket.retryAfterMs());
  }

  private sourceBucket(source: string | undefined): RateLimiter {
    const map = this.bySource as Map<string, RateLimiter>;
    const key = source ?? '';
    let bucket = map.get(key);
    if (bucket !== undefined) {
      // Map order is insertion order: moving a hit to the end keeps the oldest first to drop.
      map.delete(key);
    } else {
      bucket = this.bucket();
      if (map.size >= this.settings.maxSources) map.delete(map.keys().next().value as string);
    }
    map.set(key, bucket);
    return bucket;
  }

  private bucket(): RateLimiter {
    return new RateLimiter({
      ratePerSecond: this.settings.ratePerSecond,
      burst: this.settings.burst,
      clock: this.clock,
    });
  }
}

/** Groups kept for rule limits no route uses any more, at most: old revisions' are dropped first. */
const MAX_GROUPS = 1024;

/**
 * The engine's rate limits: a {@link RateLimitGroup} per (limit, destination service), created on
 * first use. Found by the settings object's identity (rules hand out one frozen object per
 * backend), and behind that by the limit's scope and values — so a rule update that leaves a
 * backend's limit as it was keeps its buckets, and one that changes it starts new ones.
 */
export class RateLimits {
  private readonly clock: Clock;
  private readonly byIdentity = new WeakMap<RateLimitSettings, Map<string, RateLimitGroup>>();
  private readonly byKey = new Map<string, RateLimitGroup>();
  // Most calls of a proxy hit the limit the call before hit.
  private lastSettings: RateLimitSettings | undefined;
  private lastService = '';
  private lastGroup: RateLimitGroup | undefined;

  constructor(clock: Clock) {
    this.clock = clock;
  }

  /** Limit groups held. */
  get size(): number {
    return this.byKey.size;
  }

  /** The group of `settings` for calls to `service`. */
  group(settings: RateLimitSettings, service: string): RateLimitGroup {
    if (settings === this.lastSettings && service === this.lastService) return this.lastGroup as RateLimitGroup;
    let perService = this.byIdentity.get(settings);
    if (perService === undefined) {
      perService = new Map();
      this.byIdentity.set(settings, perService);
    }
    let group = perService.get(service);
    if (group === undefined) {
      group = this.byValue(settings, service);
      perService.set(service, group);
    }
    this.lastSettings = settings;
    this.lastService = service;
    this.lastGroup = group;
    return group;
  }

  private byValue(s: RateLimitSettings, service: string): RateLimitGroup {
    const key = `${s.scope}\n${service}\n${s.ratePerSecond}/${s.burst}/${s.perSource}/${s.maxSources}`;
    let group = this.byKey.get(key);
    if (group === undefined) {
      group = new RateLimitGroup(s, this.clock);
      if (this.byKey.size >= MAX_GROUPS) this.byKey.delete(this.byKey.keys().next().value as string);
      this.byKey.set(key, group);
    }
    return group;
  }
}

/** `Retry-After` in whole seconds for a wait of `ms`: rounded up, at least 1 (never "retry now"). */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/** How a limit reads in messages: `5 requests per second (burst 5) per client_ip`. */
function describeLimit(s: RateLimitSettings): string {
  const perMinute = s.ratePerSecond < 1 && Number.isInteger(s.ratePerSecond * 60);
  const rate = perMinute ? `${s.ratePerSecond * 60} requests per minute` : `${s.ratePerSecond} requests per second`;
  return `${rate} (burst ${s.burst})${s.perSource === 'none' ? '' : ` per ${s.perSource}`}`;
}

/**
 * The error of a call a rate limit refused: `WEFT_ERR_RATE_LIMITED`, status 429, with the wait
 * the sidecar sends as `Retry-After`. Shaped like the bulkhead's refusal (no attempt was made).
 */
export function rateLimitedError(
  call: { readonly service: string; readonly requestId: string; readonly method: string; readonly path: string },
  limit: RateLimitSettings,
  waitMs: number,
): MeshRequestError {
  const whose = limit.scope === PROXY_SCOPE ? "the proxy's rate limit" : 'the rate limit of its route';
  return new MeshRequestError(
    'WEFT_ERR_RATE_LIMITED',
    `${call.method} ${call.service}${call.path} refused by ${whose}: ${describeLimit(limit)}; retry in ${retryAfterSeconds(waitMs)} s`,
    { service: call.service, requestId: call.requestId, status: 429, retryAfterMs: waitMs },
  );
}
