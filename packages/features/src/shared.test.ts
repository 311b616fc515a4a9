import { describe, expect, it } from 'vitest';
import { createRng } from '@task-agnostic/core';
import { newContext } from './context.js';
import { FieldWindow, HighLowWindow } from './shared.js';

describe('HighLowWindow (monotonic deques)', () => {
  it('equals a naive max/min over the last n bars, with ties and trends, for several n', () => {
    const rng = createRng(3);
    for (const n of [1, 2, 3, 14, 50]) {
      const w = new HighLowWindow(n);
      const ctx = newContext();
      const highs: number[] = [];
      const lows: number[] = [];
      let p = 100;
      for (let t = 0; t < 3000; t++) {
        // Rounded prices give many ties; long drifts put the extreme at the window's old end.
        p += (t % 400 < 200 ? 0.3 : -0.3) + (rng.next() - 0.5) * 2;
        const h = Math.round((p + rng.next()) * 2) / 2;
        const l = Math.round((p - rng.next()) * 2) / 2;
        ctx.high = h;
        ctx.low = l;
        highs.push(h);
        lows.push(l);
        w.advance(ctx);
        expect(w.full).toBe(t + 1 >= n);
        const from = Math.max(0, t - n + 1);
        expect(w.hh).toBe(Math.max(...highs.slice(from)));
        expect(w.ll).toBe(Math.min(...lows.slice(from)));
      }
    }
  });
});

describe('FieldWindow centred sums', () => {
  it('sumSqDev and the regression numerator equal a two-pass computation over the window', () => {
    const rng = createRng(4);
    const n = 20;
    const w = new FieldWindow(n, 'close');
    const ctx = newContext();
    const xs: number[] = [];
    for (let t = 0; t < 500; t++) {
      const x = 40_000 + 500 * Math.sin(t / 30) + rng.next() * 50;
      ctx.index = t;
      ctx.close = x;
      xs.push(x);
      w.advance(ctx);
      if (!w.full) continue;
      const win = xs.slice(-n);
      const m = win.reduce((a, b) => a + b, 0) / n;
      const ssd = win.reduce((a, b) => a + (b - m) ** 2, 0);
      const sxy = win.reduce((a, b, i) => a + (i - (n - 1) / 2) * (b - m), 0);
      expect(Math.abs(w.sumSqDev(t) - ssd)).toBeLessThan(1e-9 * ssd);
      expect(Math.abs(w.sumXyDev(t) - sxy)).toBeLessThan(1e-9 * Math.max(1, Math.abs(sxy)));
    }
  });
});
