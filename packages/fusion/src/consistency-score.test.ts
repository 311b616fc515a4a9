import { describe, expect, it } from 'vitest';
import { ConfigError, createRng } from '@task-agnostic/core';
import { ConsistencyTracker, consistencyScore } from './consistency-score.js';

describe('ConsistencyTracker', () => {
  it('matches a brute-force share over the last `window` decisions at every step', () => {
    const rng = createRng(3);
    const t = new ConsistencyTracker({ window: 7, threshold: 0.6 });
    const seen: number[] = [];
    for (let i = 0; i < 200; i++) {
      const a = rng.next();
      t.update(a);
      seen.push(a);
      const last = seen.slice(-7);
      expect(t.rolling).toBeCloseTo(last.filter((x) => x >= 0.6).length / last.length, 12);
      expect(t.overall).toBeCloseTo(seen.filter((x) => x >= 0.6).length / seen.length, 12);
    }
    expect(t.count).toBe(200);
  });
  it('accepts decisions and reports NaN before the first', () => {
    const t = new ConsistencyTracker({ window: 3 });
    expect(t.rolling).toBeNaN();
    t.update({ agreement: 0.9 });
    t.update({ agreement: 0.1 });
    expect(t.rolling).toBe(0.5);
    expect(consistencyScore([{ agreement: 0.9 }, { agreement: 0.6 }, { agreement: 0.59 }, { agreement: 0 }])).toBe(0.5);
    expect(consistencyScore([])).toBeNaN();
  });
  it('rejects a bad window', () => {
    expect(() => new ConsistencyTracker({ window: 0 })).toThrow(ConfigError);
  });
});
