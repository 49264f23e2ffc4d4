/** Counting what many requests got, and what a fair coin would give. */

/** Runs `n` calls of `call`, `concurrency` at a time, and counts the keys they return. */
export async function tally(
  n: number,
  call: (i: number) => Promise<string>,
  concurrency = 8,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const key = await call(next++);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return counts;
}

/** `v1=297  v2=103`, keys sorted. */
export function formatCounts(counts: ReadonlyMap<string, number>): string {
  return [...counts.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, c]) => `${k}=${c}`)
    .join('  ');
}

/** `≈ 100 ± 26 at 3σ`: the binomial expectation of `n` draws at probability `p`, and 3 standard deviations. */
export function binomialNote(n: number, p: number): string {
  const sigma = Math.sqrt(n * p * (1 - p));
  return `≈ ${Math.round(n * p)} ± ${Math.ceil(3 * sigma)} at 3σ`;
}
