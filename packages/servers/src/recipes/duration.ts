const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;

/**
 * A Gremlin duration in milliseconds: Go's `time.ParseDuration` syntax, as recipes write them —
 * `7s`, `100ms`, `1s500ms`, `1.5m` (units ns, us, ms, s, m, h) — or a number of seconds (a
 * checker given `max_latency: 2`). Undefined when malformed or negative.
 */
export function parseGremlinDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value * 1000 : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (text === '0') return 0;
  if (text === '') return undefined;
  let ms = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const at = PART.lastIndex;
    const m = PART.exec(text);
    if (m === null || m.index !== at) return undefined;
    ms += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  }
  return ms;
}

/** Milliseconds as a person reads them in a report: `850ms`, `7.01s`. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  return `${Math.round(ms / 10) / 100}s`;
}
