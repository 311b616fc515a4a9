import { describe, expect, it } from 'vitest';
import { candlesFrom } from '../test-candles.js';
import { riskLevel, riskTask } from './risk.js';
import { forwardDrawdown } from '../forward.js';

describe('risk task', () => {
  it('forward drawdown: a bar\'s own high is never a peak before its own low', () => {
    const close = Float64Array.from([100, 100, 100, 100]);
    const high = Float64Array.from([100, 110, 100, 100]);
    const low = Float64Array.from([100, 95, 99, 100]);
    // k=1: peak 100 (close[0]), low 95 -> 5%; then peak 110; k=2: low 99 -> 10%.
    expect(forwardDrawdown(close, high, low, 0, 3)).toBeCloseTo(1 - 99 / 110, 12);
    expect(forwardDrawdown(close, high, low, 0, 1)).toBeCloseTo(0.05, 12);
  });

  it('the level is the worse of the drawdown and volatility grades', () => {
    expect(riskLevel(0.01, 0.001, [0.02, 0.05], [0.01, 0.02])).toBe(0);
    expect(riskLevel(0.03, 0.001, [0.02, 0.05], [0.01, 0.02])).toBe(1);
    expect(riskLevel(0.01, 0.03, [0.02, 0.05], [0.01, 0.02])).toBe(2);
  });

  it('labels a hand-built series against training quantiles', () => {
    // 10 calm bars (0.1% moves), then a crash.
    const closes = [100, 100.1, 100, 100.1, 100, 100.1, 100, 100.1, 100, 100.1, 100, 90, 85, 86, 87];
    const c = candlesFrom(closes);
    const task = riskTask({ horizon: 2, quantiles: [0.5, 0.85] });
    const s = task.fit(c, 11) as { drawdownCuts: number[]; volCuts: number[] };
    // training windows are all calm: the cuts sit at the calm level
    expect(s.volCuts[1]).toBeLessThan(0.002);
    const l = task.labels(c, s);
    expect(l.targets[9]).toBe(2); // window (9, 11] holds the crash
    expect(l.targets[12]).toBe(2); // 85 -> 86 -> 87: vol far above the calm cuts
    expect(l.valid[12]).toBe(1);
    expect(l.valid[13]).toBe(0);
    const d = task.decode([0, 0, Math.log(2)], s);
    expect(d.level).toBe('high');
    expect(d.probs.high).toBeCloseTo(0.5, 12);
    const b = task.baseline(c, s, [9, 10, 11, 12]);
    expect(b.map((x) => x.name)).toEqual(['majority', 'persistence']);
  });
});
