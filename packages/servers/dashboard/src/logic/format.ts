/** How the dashboard writes numbers, durations and times: short, unit always given. */

/** Requests a second: `0`, `0.05/s`, `3.2/s`, `120/s`, `1.2k/s`. */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return '0/s';
  if (perSecond >= 1000) return `${trim(perSecond / 1000, 1)}k/s`;
  if (perSecond >= 100) return `${Math.round(perSecond)}/s`;
  if (perSecond >= 1) return `${trim(perSecond, 1)}/s`;
  return `${trim(perSecond, 2)}/s`;
}

/** A 0–1 share as a percentage: `0 %`, `0.5 %`, `12 %`, `100 %`. */
export function formatPercent(share: number): string {
  if (!Number.isFinite(share) || share <= 0) return '0 %';
  const pct = share * 100;
  if (pct >= 99.95) return '100 %';
  if (pct >= 10) return `${Math.round(pct)} %`;
  if (pct < 0.1) return '<0.1 %';
  return `${trim(pct, 1)} %`;
}

/** A latency: `850 µs`, `3.4 ms`, `120 ms`, `1.25 s`. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1) return `${Math.round(ms * 1000)} µs`;
  if (ms < 10) return `${trim(ms, 1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${trim(ms / 1000, 2)} s`;
}

/** How long ago, from `now`: `just now`, `12 s ago`, `3 min ago`, `2 h ago`, `4 d ago`. */
export function formatAge(thenMs: number, nowMs: number): string {
  if (!Number.isFinite(thenMs)) return 'never';
  const s = Math.max(0, Math.round((nowMs - thenMs) / 1000));
  if (s < 2) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

/**
 * A time the servers sent — RFC 3339 (the registry's Go-style `…:05.123456789Z`: browsers parse
 * at most milliseconds reliably, so the fraction is cut to 3 digits) or epoch ms — as epoch ms,
 * NaN when unreadable.
 */
export function parseTime(value: string | number | undefined): number {
  if (value === undefined) return Number.NaN;
  if (typeof value === 'number') return value;
  return Date.parse(value.replace(/(\.\d{3})\d+/, '$1'));
}

/** `n` with at most `digits` decimals, trailing zeros dropped. */
function trim(n: number, digits: number): string {
  return String(Number(n.toFixed(digits)));
}
