import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { ProgressBar, formatDuration } from './progress.js';

function sink(tty: boolean): { stream: Writable & { isTTY?: boolean }; text: () => string } {
  let out = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      out += String(chunk);
      cb();
    },
  }) as Writable & { isTTY?: boolean };
  stream.isTTY = tty;
  return { stream, text: () => out };
}

describe('ProgressBar', () => {
  it('prints whole lines when not on a terminal and finishes at 100%', () => {
    const prev = process.env.TAT_NO_PROGRESS;
    delete process.env.TAT_NO_PROGRESS;
    const s = sink(false);
    const bar = new ProgressBar({ total: 10, label: 'fetch', stream: s.stream, logEveryMs: 1e9, unit: 'pages' });
    for (let i = 0; i < 10; i++) bar.tick(1, 'loss 0.5');
    bar.done();
    const lines = s.text().trim().split('\n');
    expect(lines.at(-1)).toMatch(/^fetch \[#+\] 100% 10\/10 pages .* loss 0\.5$/);
    expect(s.text()).not.toContain('\r');
    if (prev !== undefined) process.env.TAT_NO_PROGRESS = prev;
  });
  it('formats durations', () => {
    expect(formatDuration(5)).toBe('5.0s');
    expect(formatDuration(75)).toBe('1m15s');
    expect(formatDuration(3720)).toBe('1h02m');
  });
});
