import { en } from 'zod/locales';
import * as z from 'zod/mini';

/**
 * Installs zod's English messages where no locale is set (zod/mini alone says "Invalid input"
 * for every problem; an application's own choice wins). Core does the same for its schemas; the
 * config schemas do it themselves so that `weft --help` and config errors need not load core.
 */
export function setUpZod(): void {
  if (z.config().localeError === undefined) z.config(en());
}
