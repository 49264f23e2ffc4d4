import { expect } from 'vitest';

/**
 * Asserts that `count` successes out of `n` trials are consistent with probability `p`: within
 * mean ± 4.5 σ of Binomial(n, p) (a false alarm about once in 150 000 runs; with a seeded RNG the
 * outcome is fixed anyway, the bound only says the figure is not a fluke of the seed).
 */
export function expectBinomial(count: number, n: number, p: number): void {
  const mean = n * p;
  const sigma = Math.sqrt(n * p * (1 - p));
  const slack = Math.max(4.5 * sigma, 1e-9);
  expect(count, `${count}/${n} vs p=${p} (mean ${mean}, 4.5σ ${slack.toFixed(1)})`).toBeGreaterThanOrEqual(
    mean - slack,
  );
  expect(count, `${count}/${n} vs p=${p} (mean ${mean}, 4.5σ ${slack.toFixed(1)})`).toBeLessThanOrEqual(mean + slack);
}
