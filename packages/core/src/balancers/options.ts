import type { Clock } from '../clock/index.js';
import type { fastRandom, RandomSource } from '../random/rng.js';

/** Options of pickers that draw random numbers. */
export interface RandomOptions {
  /**
   * Uniform [0, 1) source for every random draw the picker makes (start offset, candidates,
   * fallback picks). Defaults to {@link fastRandom}, an allocation-free generator (`Math.random`
   * works but allocates on every call); inject a seeded one for reproducible tests.
   */
  random?: RandomSource | undefined;
}

/** Options of pickers that measure time. */
export interface ClockOptions {
  /** Time source. Defaults to `systemClock`; tests pass a `VirtualClock`. */
  clock?: Clock | undefined;
}
