import { describe, expect, it } from 'vitest';
import { formatInterval, judgeDifference } from './verdict.js';

describe('judgeDifference', () => {
  it('says better, worse or no significant difference from the interval', () => {
    expect(judgeDifference({ lo: 0.01, hi: 0.05 }, { windows: 981 }).text).toBe('better (95% CI excludes 0)');
    expect(judgeDifference({ lo: -0.05, hi: -0.01 }, { windows: 981 }).text).toBe('worse');
    expect(judgeDifference({ lo: -0.01, hi: 0.05 }, { windows: 981 }).text).toBe('no significant difference');
    expect(judgeDifference({ lo: 0, hi: 0.05 }, { windows: 981 }).kind).toBe('no significant difference');
    expect(judgeDifference({ lo: 0.01, hi: 0.05, confidence: 0.9 }).text).toBe('better (90% CI excludes 0)');
  });
  it('flips for losses', () => {
    expect(judgeDifference({ lo: -0.05, hi: -0.01 }, { higherIsBetter: false }).kind).toBe('better');
    expect(judgeDifference({ lo: 0.01, hi: 0.05 }, { higherIsBetter: false }).kind).toBe('worse');
  });
  it('never judges fewer than 30 windows or 10 trades', () => {
    expect(judgeDifference({ lo: 1, hi: 2 }, { windows: 29 }).text).toBe('too few to judge (29 windows < 30)');
    expect(judgeDifference({ lo: 1, hi: 2 }, { windows: 30, trades: 9 }).text).toBe('too few to judge (9 trades < 10)');
    expect(judgeDifference({ lo: 1, hi: 2 }, { windows: 30, trades: 10 }).kind).toBe('better');
    expect(judgeDifference({ lo: NaN, hi: 2 }, { windows: 300 }).kind).toBe('too few to judge');
  });
  it('formats an interval', () => {
    expect(formatInterval({ estimate: 0.35754, lo: 0.33111, hi: 0.38222 })).toBe('0.3575 [0.3311, 0.3822]');
    expect(formatInterval({ estimate: NaN, lo: 1, hi: 2 }, 1)).toBe('n/a [1.0, 2.0]');
  });
});
