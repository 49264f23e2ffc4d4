import { describe, expect, it } from 'vitest';
import { ProgressBar } from './recipe-progress.js';

const progress = (sent: number, done: number) => ({ sent, done, total: 10, elapsedMs: 500, durationMs: 1000 });

describe('ProgressBar', () => {
  it('redraws one line in place on a terminal, and clears it when done', () => {
    let out = '';
    const bar = new ProgressBar({ isTTY: true, write: (t: string) => (out += t) });
    bar.update(progress(5, 3));
    expect(out).toBe(`\r\x1b[2Kload [${'█'.repeat(15)}${'░'.repeat(15)}] 5/10 sent, 3 done, 0.5s/1s`);
    bar.update(progress(10, 10)); // the last one is always drawn
    expect(out).toContain('10/10 sent, 10 done');
    bar.done();
    expect(out.endsWith('\r\x1b[2K')).toBe(true);
  });

  it('draws nothing off a terminal (a CI log)', () => {
    let out = '';
    const bar = new ProgressBar({ write: (t: string) => (out += t) });
    bar.update(progress(5, 3));
    bar.done();
    expect(out).toBe('');
  });
});
