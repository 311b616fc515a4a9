import { describe, expect, it } from 'vitest';
import { generateSyntheticMarket, REGIMES } from '@task-agnostic/core';
import { candlesFrom } from '../test-candles.js';
import { regimeTask, ruleRegime } from './regime.js';

describe('regime task', () => {
  it('rule labeller: high vol first, then trend, then low vol, else sideways', () => {
    const cuts: [number, number] = [0.001, 0.01];
    expect(REGIMES[ruleRegime(3, 0.02, cuts, 1)]).toBe('high_volatility');
    expect(REGIMES[ruleRegime(1.5, 0.005, cuts, 1)]).toBe('bull');
    expect(REGIMES[ruleRegime(-1.5, 0.0005, cuts, 1)]).toBe('bear');
    expect(REGIMES[ruleRegime(0.2, 0.0005, cuts, 1)]).toBe('low_volatility');
    expect(REGIMES[ruleRegime(0.2, 0.005, cuts, 1)]).toBe('sideways');
  });

  it('labels a hand-built series: a steady rise is bull, a flat zig-zag sideways, wild swings high vol', () => {
    const closes = [100];
    const push = (f: (i: number) => number, n: number) => {
      for (let i = 0; i < n; i++) closes.push(closes[closes.length - 1]! * f(i));
    };
    push((i) => (i % 2 ? 1.004 : 0.997), 20); // drifting slightly up with noise: z = sum r / sqrt(sum r^2)
    push(() => 1.003, 10); // steady rise
    push((i) => (i % 2 ? 1.0033 : 1 / 1.0033), 10); // flat zig-zag, vol between the rise (0.003) and the noisy drift (~0.0035)
    push((i) => (i % 2 ? 1.05 : 1 / 1.05), 10); // wild
    const c = candlesFrom(closes, { wick: 0.001 });
    const task = regimeTask({ horizon: 4, volQuantiles: [0.1, 0.9] });
    const s = task.fit(c, 41) as { volCuts: [number, number] };
    const l = task.labels(c, s);
    expect(REGIMES[l.targets[22]!]).toBe('bull'); // window (22, 26]: steady rise, z = 2
    expect(REGIMES[l.targets[32]!]).toBe('sideways'); // zig-zag: z = 0, vol between the cuts
    expect(REGIMES[l.targets[42]!]).toBe('high_volatility');
    const d = task.decode([0, 0, 0, Math.log(7), 0], s);
    expect(d.label).toBe('high_volatility');
    expect(d.confidence).toBeCloseTo(7 / 11, 12);
    expect(Object.values(d.probs).reduce((a, b) => a + b)).toBeCloseTo(1, 12);
  });

  it('HMM labeller: fitted on the training range, its labels agree with the true synthetic regimes', () => {
    // 300-bar spells (the default is 720): ~33 spells in the 10,000 training bars for the HMM to fit
    const m = generateSyntheticMarket({ bars: 12_000, seed: 42, meanRegimeBars: 300 });
    const task = regimeTask({ labeller: 'hmm', horizon: 64, hmmRestarts: 2 });
    const s = task.fit(m.candles, 10_000);
    const again = JSON.parse(JSON.stringify(s));
    const l = task.labels(m.candles, again);
    let ok = 0;
    let n = 0;
    for (let t = 10_000; t < 12_000 - 64; t++) {
      n++;
      if (l.targets[t] === m.regimes[t + 32]) ok++;
    }
    // out-of-sample rows: the label describes the window's regime
    expect(ok / n).toBeGreaterThan(0.7);
    const b = task.baseline(m.candles, s, Array.from({ length: 500 }, (_, i) => 10_500 + i));
    expect(b.map((x) => x.name)).toEqual(['majority', 'persistence']);
  });
});
