import { describe, expect, it } from 'vitest';
import { candlesFrom } from '../test-candles.js';
import { timingTask } from './timing.js';

describe('timing task', () => {
  const closes = [100, 101, 102, 100.2, 99, 100, 101];
  const c = candlesFrom(closes);

  it('long: enter now only if every close of the next k bars is above now by more than costs', () => {
    const task = timingTask({ horizon: 2, costRate: 0.003 });
    const l = task.labels(c, task.fit(c, 7));
    // t=0: min(101, 102) = 101 > 100.3 -> 1; t=1: min(102, 100.2) < 101.303 -> 0;
    // t=2: 0; t=3: min(99, 100) < 100.5 -> 0; t=4: min(100, 101) > 99.297 -> 1
    expect(Array.from(l.targets.slice(0, 5))).toEqual([1, 0, 0, 0, 1]);
    expect(Array.from(l.valid)).toEqual([1, 1, 1, 1, 1, 0, 0]);
  });

  it('short: mirror image', () => {
    const task = timingTask({ horizon: 2, costRate: 0.003, side: 'short' });
    const l = task.labels(c, task.fit(c, 7));
    // t=2: max(100.2, 99) = 100.2 < 102 * 0.997 = 101.694 -> 1; t=1: max(102, ..) -> 0
    expect(Array.from(l.targets.slice(0, 5))).toEqual([0, 0, 1, 0, 0]);
  });

  it('costs matter: with zero cost t = 3 (100.2 -> 99) still waits, with a huge cost nothing enters', () => {
    expect(timingTask({ horizon: 2, costRate: 0.5 }).labels(c, timingTask({ horizon: 2, costRate: 0.5 }).fit(c, 7)).targets.reduce((a, b) => a + b, 0)).toBe(0);
    expect(timingTask({ horizon: 2, costRate: 0 }).decode([0], {}).enterNow).toBeCloseTo(0.5, 12);
  });
});
