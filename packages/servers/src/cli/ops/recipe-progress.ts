import type { LoadProgress } from '../../recipes/index.js';

const WIDTH = 30;

/**
 * A one-line progress bar of the load, redrawn in place on a terminal's standard error:
 * `load [███████░░░░░░░░] 23/50 sent, 20 done, 2.3s/5s`. Nothing is drawn off a terminal (a CI
 * log would fill with carriage returns); `done()` clears the line.
 */
export class ProgressBar {
  private drawnAt = 0;
  private shown = false;

  constructor(
    private readonly stream: { write(text: string): unknown; isTTY?: boolean },
    private readonly enabled = stream.isTTY === true,
  ) {}

  update(p: LoadProgress): void {
    if (!this.enabled) return;
    const now = Date.now();
    // At most ~20 redraws a second, and always the last one.
    if (now - this.drawnAt < 50 && p.done < p.total) return;
    this.drawnAt = now;
    const filled = Math.round((Math.min(p.sent, p.total) / p.total) * WIDTH);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(WIDTH - filled)}`;
    const seconds = (ms: number): string => `${Math.round(ms / 100) / 10}s`;
    this.stream.write(
      `\r\x1b[2Kload [${bar}] ${p.sent}/${p.total} sent, ${p.done} done, ${seconds(p.elapsedMs)}/${seconds(p.durationMs)}`,
    );
    this.shown = true;
  }

  done(): void {
    if (this.shown) this.stream.write('\r\x1b[2K');
    this.shown = false;
  }
}
