import { formatMs } from './duration.js';
import { formatRef, parseServiceRef, type RecipeInstance, type ServiceRef } from './endpoint.js';
import { onEdge, type RunRecord } from './records.js';
import type { Check } from './schemas.js';

/** The verdict of one check. */
export interface CheckResult {
  readonly name: string;
  /** `gateway → productpage:version=v1`, or what the check looks at. */
  readonly subject: string;
  readonly passed: boolean;
  /** Records the check looked at. */
  readonly records: number;
  /** Why it failed, or what it saw when it passed. */
  readonly message: string;
  /** The check as the file wrote it (durations in ms). */
  readonly check: Readonly<Record<string, unknown>>;
}

/** The edges (or services) a check needs records of before it can be judged. */
export interface CheckNeed {
  readonly source: ServiceRef | undefined;
  readonly dest: ServiceRef | undefined;
}

/** Error codes of calls that ended as designed — a fault, a timeout, a breaker — rather than by a proxy failing. */
const RESILIENCE_OUTCOMES = new Set([
  'ECONNRESET',
  'WEFT_ERR_TIMEOUT',
  'WEFT_ERR_RETRIES_EXHAUSTED',
  'WEFT_ERR_RETRY_BUDGET_EXHAUSTED',
  'WEFT_ERR_CIRCUIT_OPEN',
  'WEFT_ERR_BULKHEAD_FULL',
  'WEFT_ERR_ABORTED',
]);

/** The proxy's breaker refused the call: it never left the proxy. */
const SHORT_CIRCUITED = new Set(['WEFT_ERR_CIRCUIT_OPEN', 'WEFT_ERR_BULKHEAD_FULL']);

const isSuccess = (r: RunRecord): boolean => r.status >= 200 && r.status < 300 && r.errorCode === undefined;

/** `503`, or `reset` for a call that got no response. */
const statusOf = (r: RunRecord): string =>
  r.status === 0 ? `no response (${r.errorCode ?? 'reset'})` : String(r.status);

/** The first few request ids of a list, for a message. */
function ids(records: readonly RunRecord[], max = 3): string {
  const shown = records.slice(0, max).map((r) => r.requestId);
  return `${shown.join(', ')}${records.length > max ? ', …' : ''}`;
}

function groupBy(records: readonly RunRecord[], key: (r: RunRecord) => string): Map<string, RunRecord[]> {
  const groups = new Map<string, RunRecord[]>();
  for (const r of records) {
    const k = key(r);
    const list = groups.get(k);
    if (list === undefined) groups.set(k, [r]);
    else list.push(r);
  }
  return groups;
}

/** A prepared check: what it needs, and how it judges the records. */
export interface PreparedCheck {
  readonly name: string;
  readonly subject: string;
  readonly needs: readonly CheckNeed[];
  judge(records: readonly RunRecord[]): CheckResult;
}

/** Prepares a check of the checks file: its services resolved (`reviews:v2` → `version=v2` as the registry has it). */
export function prepareCheck(check: Check, instances: readonly RecipeInstance[] = []): PreparedCheck {
  const ref = (text: string | undefined): ServiceRef | undefined =>
    text === undefined ? undefined : parseServiceRef(text, instances);
  const c = check as Check & { source?: string; dest?: string };
  const source = ref(c.source);
  const dest = ref(c.dest);
  const subject =
    source === undefined && dest === undefined
      ? 'every call of the run'
      : `${source === undefined ? '*' : formatRef(source)} → ${dest === undefined ? '*' : formatRef(dest)}`;
  const result = (passed: boolean, records: number, message: string): CheckResult => ({
    name: check.name,
    subject,
    passed,
    records,
    message,
    check,
  });
  const edgeOf = (records: readonly RunRecord[]): RunRecord[] => onEdge(records, source, dest);
  const none = (): CheckResult => result(false, 0, `no record of ${subject} came from the proxies`);
  const base = { name: check.name, subject, needs: [{ source, dest }] };

  switch (check.name) {
    case 'bounded_response_time':
      return {
        ...base,
        judge(all) {
          const records = edgeOf(all);
          if (records.length === 0) return none();
          const slow = records.filter((r) => r.durationMs > check.max_latency);
          const worst = records.reduce((w, r) => (r.durationMs > w.durationMs ? r : w));
          return slow.length === 0
            ? result(
                true,
                records.length,
                `all ${records.length} within ${formatMs(check.max_latency)} (slowest ${formatMs(worst.durationMs)})`,
              )
            : result(
                false,
                records.length,
                `${slow.length} of ${records.length} took longer than ${formatMs(check.max_latency)} (slowest ${formatMs(worst.durationMs)}, request ${worst.requestId})`,
              );
        },
      };
    case 'http_status': {
      const wanted = Array.isArray(check.status) ? check.status : [check.status];
      return {
        ...base,
        judge(all) {
          const records = edgeOf(all).filter((r) => check.req_id === undefined || r.requestId.startsWith(check.req_id));
          if (records.length === 0) return none();
          const wrong = records.filter((r) => !wanted.includes(r.status));
          const seen = [...new Set(wrong.map(statusOf))].join(', ');
          return wrong.length === 0
            ? result(true, records.length, `all ${records.length} answered ${wanted.join(' or ')}`)
            : result(
                false,
                records.length,
                `${wrong.length} of ${records.length} answered ${seen}, not ${wanted.join(' or ')} (${ids(wrong)})`,
              );
        },
      };
    }
    case 'http_success_status':
      return {
        ...base,
        judge(all) {
          const records = edgeOf(all);
          if (records.length === 0) return none();
          const failed = records.filter((r) => !isSuccess(r));
          const seen = [...new Set(failed.map(statusOf))].join(', ');
          return failed.length === 0
            ? result(true, records.length, `all ${records.length} succeeded (2xx)`)
            : result(false, records.length, `${failed.length} of ${records.length} failed: ${seen} (${ids(failed)})`);
        },
      };
    case 'no_proxy_errors':
      return {
        ...base,
        judge(all) {
          const records = edgeOf(all);
          if (records.length === 0) return none();
          const errors = records.filter((r) => r.errorCode !== undefined && !RESILIENCE_OUTCOMES.has(r.errorCode));
          const codes = [...new Set(errors.map((r) => `${r.errorCode} (${formatRef(r.src)} → ${r.dst.name})`))];
          return errors.length === 0
            ? result(true, records.length, `no proxy error in ${records.length} calls`)
            : result(false, records.length, `${errors.length} proxy errors: ${codes.join(', ')} (${ids(errors)})`);
        },
      };
    case 'bounded_retries': {
      const errdelta = check.errdelta ?? 10;
      return {
        ...base,
        judge(all) {
          const records = edgeOf(all);
          if (records.length === 0) return none();
          // Every try of a request: the app's own (one record each) and the proxy's (attempts).
          const groups = groupBy(records, (r) => (check.by_uri === true ? r.path : r.requestId));
          for (const [key, tries] of groups) {
            const total = tries.reduce((n, r) => n + r.attempts, 0);
            if (total - 1 > check.retries)
              return result(
                false,
                records.length,
                `${check.by_uri === true ? `path ${key}` : `request ${key}`} was tried ${total} times: ${total - 1} retries, more than ${check.retries}`,
              );
            if (check.wait_time === undefined) continue;
            const wait = check.wait_time;
            const sorted = [...tries].sort((a, b) => a.startMs - b.startMs);
            for (let i = 1; i < sorted.length; i++) {
              const prev = sorted[i - 1] as RunRecord;
              const gap = (sorted[i] as RunRecord).startMs - prev.endMs;
              if (Math.abs(gap - wait) > errdelta)
                return result(
                  false,
                  records.length,
                  `request ${key}: retry ${i} came ${formatMs(gap)} after the previous try ended, not ${formatMs(wait)} ± ${formatMs(errdelta)}`,
                );
            }
          }
          return result(true, records.length, `${groups.size} requests, none retried more than ${check.retries} times`);
        },
      };
    }
    case 'circuit_breaker':
      return {
        ...base,
        judge(all) {
          let records = edgeOf(all).filter(
            (r) => check.headerprefix === undefined || r.requestId.startsWith(check.headerprefix),
          );
          if (records.length === 0) return none();
          if (check.remove_retries === true)
            records = records.filter((r, i) => records[i + 1]?.requestId !== r.requestId);
          const verdict = replayBreaker(records, check.closed_attempts, check.reset_time, check.halfopen_attempts ?? 1);
          return result(verdict.ok, records.length, verdict.message);
        },
      };
    case 'at_most_requests':
      return {
        ...base,
        judge(all) {
          const records = edgeOf(all);
          if (records.length === 0) return none();
          for (const [id, tries] of groupBy(records, (r) => r.requestId)) {
            const total = tries.reduce((n, r) => n + r.attempts, 0);
            if (total > check.num_requests)
              return result(
                false,
                records.length,
                `request ${id} reached ${dest?.name} ${total} times, more than ${check.num_requests}`,
              );
          }
          return result(true, records.length, `no request reached ${dest?.name} more than ${check.num_requests} times`);
        },
      };
    case 'bulkhead': {
      const slow = parseServiceRef(check.slow_dest, instances);
      const others = check.dependencies.map((d) => parseServiceRef(d, instances)).filter((d) => d.name !== slow.name);
      const maxGap = 1000 / check.rate;
      return {
        name: check.name,
        subject: `${formatRef(source as ServiceRef)} → ${others.map(formatRef).join(', ')} while ${formatRef(slow)} is slow`,
        needs: others.map((d) => ({ source, dest: d })),
        judge(all) {
          let seen = 0;
          for (const d of others) {
            const records = onEdge(all, source, d);
            seen += records.length;
            if (records.length === 0)
              return {
                ...result(
                  false,
                  seen,
                  `no record of ${formatRef(source as ServiceRef)} → ${formatRef(d)} came from the proxies`,
                ),
                subject: this.subject,
              };
            for (let i = 1; i < records.length; i++) {
              const gap = (records[i] as RunRecord).startMs - (records[i - 1] as RunRecord).startMs;
              if (gap > maxGap)
                return {
                  ...result(
                    false,
                    seen,
                    `calls to ${formatRef(d)} stalled: ${formatMs(gap)} between two (request ${(records[i] as RunRecord).requestId}), more than 1/${check.rate} s`,
                  ),
                  subject: this.subject,
                };
            }
          }
          return {
            ...result(true, seen, `calls to ${others.map((d) => d.name).join(', ')} kept at least ${check.rate}/s`),
            subject: this.subject,
          };
        },
      };
    }
  }
}

/**
 * Replays a circuit breaker over the calls in time order (Gremlin's checker): closed until more
 * than `closedAttempts` failures in a row, then open — a call that reaches the destination before
 * `resetMs` has passed is a violation (calls the proxy's own breaker refused never left it) —
 * then half-open: a failure opens it again, `halfOpenAttempts` successes close it.
 */
export function replayBreaker(
  records: readonly RunRecord[],
  closedAttempts: number,
  resetMs: number,
  halfOpenAttempts: number,
): { ok: boolean; message: string } {
  let state: 'closed' | 'open' | 'half-open' = 'closed';
  let failures = 0;
  let successes = 0;
  let openedAt = 0;
  let trips = 0;
  for (const r of records) {
    const shortCircuited = r.errorCode !== undefined && SHORT_CIRCUITED.has(r.errorCode);
    if (state === 'open') {
      if (r.startMs - openedAt >= resetMs) {
        state = 'half-open';
        successes = 0;
      } else if (!shortCircuited)
        return {
          ok: false,
          message: `request ${r.requestId} reached the destination ${formatMs(r.startMs - openedAt)} after the circuit should have opened (reset_time ${formatMs(resetMs)})`,
        };
      else continue;
    }
    if (shortCircuited) continue;
    const failed = !isSuccess(r);
    if (state === 'half-open') {
      if (failed) {
        state = 'open';
        openedAt = r.endMs;
        trips++;
      } else if (++successes >= halfOpenAttempts) {
        state = 'closed';
        failures = 0;
      }
      continue;
    }
    failures = failed ? failures + 1 : 0;
    if (failures > closedAttempts) {
      state = 'open';
      openedAt = r.endMs;
      trips++;
      failures = 0;
    }
  }
  return {
    ok: true,
    message:
      trips === 0
        ? `${records.length} calls; the circuit never had to open (at most ${closedAttempts} failures in a row)`
        : `${records.length} calls; the circuit opened ${trips} time${trips === 1 ? '' : 's'} and no call went through while open`,
  };
}
