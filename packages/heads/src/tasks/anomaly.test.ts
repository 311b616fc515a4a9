import { describe, expect, it } from 'vitest';
import { candlesFrom } from '../test-candles.js';
import { anomalyTask } from './anomaly.js';

describe('anomaly task', () => {
  // +-1% alternation (robust sigma = 1.4826 * MAD of +-a = 1.4826 a) and one 10% jump at bar 30.
  const closes = [100];
  for (let i = 1; i < 40; i++) closes.push(i === 30 ? closes[i - 1]! * 1.1 : closes[i - 1]! * (i % 2 ? 1.01 : 1 / 1.01));
  const c = candlesFrom(closes);
  const task = anomalyTask({ horizon: 3, kSigma: 4 });

  it('uses a robust sigma from the training range and flags windows that contain the jump', () => {
    const s = task.fit(c, 25) as { sigma: number; threshold: number; positives: number };
    expect(s.sigma).toBeCloseTo(1.4826 * Math.log(1.01), 9);
    expect(s.positives).toBe(0);
    const l = task.labels(c, s);
    // the jump is bar 30: windows (t, t+3] containing 30 are t = 27, 28, 29
    const flagged = [];
    for (let t = 0; t < c.length; t++) if (l.valid[t] && l.targets[t] === 1) flagged.push(t);
    expect(flagged).toEqual([27, 28, 29]);
  });

  it('decodes a probability and reports AUC / Brier beside the base rate', () => {
    const s = task.fit(c, 25);
    expect(task.decode([0], s).probability).toBeCloseTo(0.5, 12);
    const m = task.metrics(new Float32Array([3, -3, -3]), new Float32Array([1, 0, 0]), 3);
    expect(m.auc).toBe(1);
    expect(m.accuracy).toBe(1);
    const b = task.baseline(c, s, [20, 27, 28, 29, 33]);
    expect(b[0]!.name).toBe('baseRate');
    expect(b[0]!.metrics.positiveRate).toBeCloseTo(3 / 5, 12);
  });
});
