import { describe, expect, it } from 'vitest';
import { formatSyntheticSummary, summariseSyntheticMarket } from './synthetic-summary.js';

describe('synthetic market summary (the interim main job)', () => {
  it('summarises a clean, fat-tailed, clustered market whose regime shares sum to 1', () => {
    const s = summariseSyntheticMarket({ bars: 5000, seed: 3 });
    expect(s.bars).toBe(5000);
    expect(s.validationIssues).toBe(0);
    expect(s.excessKurtosis).toBeGreaterThan(1);
    expect(s.absReturnAcf1).toBeGreaterThan(0.05);
    expect(Object.values(s.regimeShare).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    const text = formatSyntheticSummary(s);
    expect(text).toMatch(/^Synthetic market SYNTHUSDT: 5000 bars, 2022-01-01T00:00:00.000Z/);
    expect(text).toContain('validation: no issues');
  });
});
