/**
 * The label contract, checked for every built-in task: the label at t reads only close[t] (the
 * reference price, known at t) and bars t+1..t+h; fit() reads only bars [0, trainEnd).
 */
import { describe, expect, it } from 'vitest';
import { generateSyntheticMarket, Rng, type CandleColumns } from '@task-agnostic/core';
import { getTask } from './registry.js';
import { cloneCandles } from './test-candles.js';

const H = 5;
const CASES: [string, Record<string, unknown>][] = [
  ['direction', { horizon: H }],
  ['volatility', { horizon: H, garch: false }],
  ['regime', { horizon: H }],
  ['regime', { horizon: H, labeller: 'hmm', hmmRestarts: 1, hmmMaxIterations: 30 }],
  ['return', { horizon: H }],
  ['risk', { horizon: H }],
  ['anomaly', { horizon: H, kSigma: 2 }],
  ['timing', { horizon: H, costRate: 0.001 }],
];

const market = generateSyntheticMarket({ bars: 600, seed: 9 }).candles;

function perturbBar(c: CandleColumns, i: number, rng: Rng, keepClose: boolean): void {
  const f = () => Math.exp(rng.normal(0, 0.05));
  if (!keepClose) c.close[i] = c.close[i]! * f();
  c.open[i] = c.open[i]! * f();
  c.high[i] = Math.max(c.open[i]!, c.close[i]!) * (1 + Math.abs(rng.normal(0, 0.02)));
  c.low[i] = Math.min(c.open[i]!, c.close[i]!) * (1 - Math.abs(rng.normal(0, 0.02)));
  c.volume[i] = c.volume[i]! * f();
}

describe.each(CASES)('label contract of %s %j', (id, config) => {
  const task = getTask(id, config);
  const state = task.fit(market, 400);
  const base = task.labels(market, state);
  const rng = new Rng(`${id}-${JSON.stringify(config)}`);
  const w = task.targetDim;

  it('altering bars before t, the non-close fields of bar t, and bars after t+h never changes label t', () => {
    for (let trial = 0; trial < 25; trial++) {
      const t = 20 + rng.int(560 - 2 * H - 20);
      const c = cloneCandles(market);
      for (let i = 0; i < t; i++) perturbBar(c, i, rng, false);
      perturbBar(c, t, rng, true);
      for (let i = t + H + 1; i < c.length; i++) perturbBar(c, i, rng, false);
      const l = task.labels(c, state);
      expect(l.valid[t]).toBe(1);
      for (let d = 0; d < w; d++) expect(l.targets[t * w + d]).toBe(base.targets[t * w + d]);
    }
  });

  it('the label does depend on the window (t, t+h] (so the check above can fail)', () => {
    let changed = 0;
    for (let trial = 0; trial < 40; trial++) {
      const t = 20 + rng.int(500);
      const c = cloneCandles(market);
      for (let i = t + 1; i <= t + H; i++) {
        const shock = Math.exp(rng.normal(0, 0.08));
        for (let j = i; j < c.length; j++) {
          c.close[j] = c.close[j]! * (j === i ? shock : 1);
        }
        c.high[i] = Math.max(c.high[i]!, c.close[i]!) * 1.05;
        c.low[i] = Math.min(c.low[i]!, c.close[i]!) * 0.95;
      }
      const l = task.labels(c, state);
      if (l.targets[t * w] !== base.targets[t * w]) changed++;
    }
    expect(changed).toBeGreaterThan(0);
  });

  it('fit reads only [0, trainEnd): altering later bars leaves the state unchanged, and the state is JSON', () => {
    const c = cloneCandles(market);
    for (let i = 400; i < c.length; i++) perturbBar(c, i, rng, false);
    const s2 = task.fit(c, 400);
    expect(JSON.stringify(s2)).toBe(JSON.stringify(state));
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
  });

  it('valid[t] = 1 exactly where t + h is inside the data', () => {
    for (let t = 0; t < market.length; t++) expect(base.valid[t]).toBe(t + H < market.length ? 1 : 0);
  });
});
