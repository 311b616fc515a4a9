import { describe, expect, it } from 'vitest';
import { generateSyntheticMarket } from '@task-agnostic/core';
import { candlesFrom } from '../test-candles.js';
import { volatilityTask, qlike } from './volatility.js';

describe('volatility task', () => {
  it('labels the log of the forward realised vol (minus the training centre) by hand', () => {
    const closes = [100, 101, 99, 102, 102, 100, 103, 104];
    const c = candlesFrom(closes);
    const task = volatilityTask({ horizon: 3, garch: false });
    const s = task.fit(c, 8) as { centre: number; volQuantiles: number[] };
    const rv = (t: number) => Math.sqrt([1, 2, 3].reduce((a, k) => a + Math.log(closes[t + k]! / closes[t + k - 1]!) ** 2, 0) / 3);
    const logs = [0, 1, 2, 3, 4].map((t) => Math.log(rv(t)));
    expect(s.centre).toBeCloseTo(logs.reduce((a, b) => a + b) / 5, 12);
    const l = task.labels(c, s);
    expect(l.targets[2]).toBeCloseTo(logs[2]! - s.centre, 5);
    expect(l.valid[4]).toBe(1);
    expect(l.valid[5]).toBe(0);
    // decode: expected back in vol units; percentile against the training distribution
    const d = task.decode([logs[2]! - s.centre], s);
    expect(d.expected).toBeCloseTo(rv(2), 12);
    const sorted = [0, 1, 2, 3, 4].map(rv).sort((a, b) => a - b);
    const rank = sorted.indexOf(sorted.find((v) => Math.abs(v - rv(2)) < 1e-15)!);
    expect(d.percentile).toBeCloseTo(rank / 4, 6);
    expect(task.decode([100], s).percentile).toBe(1);
    expect(task.decode([-100], s).percentile).toBe(0);
  });

  it('QLIKE is 0 for a perfect forecast and matches the formula', () => {
    expect(qlike([0.3], [0.3], 1)).toBeCloseTo(0, 12);
    const d = 2 * (0.1 - -0.2);
    expect(qlike([-0.2], [0.1], 1)).toBeCloseTo(Math.exp(d) - d - 1, 12);
  });

  it('reports persistence, EWMA, GARCH and train-mean baselines; GARCH beats the train mean on a GARCH-like market', () => {
    // seed 7: under the realistic defaults, seed 5's short test range is dominated by one jump
    // 300-bar spells (the default is 720), so the 900 test rows see volatility change with the regime
    const m = generateSyntheticMarket({ bars: 3000, seed: 7, meanRegimeBars: 300 });
    const task = volatilityTask({ horizon: 12 });
    const s = task.fit(m.candles, 2000) as { garch: { alpha: number; beta: number } };
    expect(s.garch.alpha + s.garch.beta).toBeLessThan(1);
    const rows = Array.from({ length: 900 }, (_, i) => 2050 + i);
    const b = task.baseline(m.candles, s, rows);
    expect(b.map((x) => x.name)).toEqual(['persistence', 'ewma', 'ewma+bias', 'garch', 'garch+bias', 'trainMean']);
    const byName = Object.fromEntries(b.map((x) => [x.name, x.metrics]));
    // On the training rows the bias is fitted on, the shift by the mean log error minimises the MSE over shifts.
    const trainRows = Array.from({ length: 2000 - 24 }, (_, i) => 12 + i);
    const tb = Object.fromEntries(task.baseline(m.candles, s, trainRows).map((x) => [x.name, x.metrics]));
    expect(tb['garch+bias']!.mse).toBeLessThan(tb.garch!.mse ?? NaN);
    expect(tb['ewma+bias']!.mse).toBeLessThan(tb.ewma!.mse ?? NaN);
    expect(byName.garch!.mse).toBeLessThan(byName.trainMean!.mse ?? NaN);
    expect(byName.ewma!.correlation).toBeGreaterThan(0.3);
    for (const x of b) expect(Number.isFinite(x.metrics.qlike)).toBe(true);
  });
});
