import { describe, expect, it } from 'vitest';
import { formatCandlesCsv } from './csv.js';
import { autocorrelation, excessKurtosis, logReturns, correlation } from './stats.js';
import { generateSyntheticMarket } from './synthetic.js';
import { validateCandles } from './validate.js';
import { REGIMES } from './task-outputs.js';

describe('synthetic market', () => {
  const m = generateSyntheticMarket({ bars: 20_000, seed: 7 });
  const r = logReturns(m.candles.close).subarray(1);

  it('is deterministic: the same seed gives the same bytes, another seed differs', () => {
    const again = generateSyntheticMarket({ bars: 20_000, seed: 7 });
    expect(formatCandlesCsv(again.candles)).toBe(formatCandlesCsv(m.candles));
    expect(Buffer.from(again.regimes).equals(Buffer.from(m.regimes))).toBe(true);
    const other = generateSyntheticMarket({ bars: 20_000, seed: 8 });
    expect(other.candles.close[100]).not.toBe(m.candles.close[100]);
  });

  it('passes the candle validator with no gaps, and high/low bound the path', () => {
    const rep = validateCandles(m.candles, { interval: '1h' });
    expect(rep.issues).toEqual([]);
    for (let i = 1; i < m.candles.length; i++) expect(m.candles.open[i]).toBe(m.candles.close[i - 1]);
  });

  it('clusters volatility: |returns| autocorrelate positively at lags 1..10', () => {
    const a = Float64Array.from(r, Math.abs);
    for (let lag = 1; lag <= 10; lag++) expect(autocorrelation(a, lag)).toBeGreaterThan(0.05);
  });

  it('has fat tails: excess kurtosis > 1', () => {
    expect(excessKurtosis(r)).toBeGreaterThan(1);
  });

  it('has persistent regimes covering all five', () => {
    let runs = 1;
    for (let i = 1; i < m.regimes.length; i++) if (m.regimes[i] !== m.regimes[i - 1]) runs++;
    expect(m.regimes.length / runs).toBeGreaterThan(50); // mean duration in bars
    const seen = new Set(m.regimes);
    expect(seen.size).toBe(REGIMES.length);
  });

  it('makes regimes that differ as labelled: high-vol > low-vol volatility, bull drifts up, bear down', () => {
    const by = REGIMES.map(() => [] as number[]);
    for (let i = 1; i < m.candles.length; i++) by[m.regimes[i]!]!.push(r[i - 1]!);
    const vol = by.map((x) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length));
    const drift = by.map((x) => x.reduce((s, v) => s + v, 0) / x.length);
    const k = (name: (typeof REGIMES)[number]) => REGIMES.indexOf(name);
    expect(vol[k('high_volatility')]!).toBeGreaterThan(2 * vol[k('bull')]!);
    expect(vol[k('low_volatility')]!).toBeLessThan(0.5 * vol[k('sideways')]!);
    expect(drift[k('bull')]!).toBeGreaterThan(0.0005);
    expect(drift[k('bear')]!).toBeLessThan(-0.0005);
  });

  it('ties volume to |return|', () => {
    const a = Float64Array.from(r, Math.abs);
    expect(correlation(a, m.candles.volume.subarray(1))).toBeGreaterThan(0.3);
  });

  it('rejects bad options with the field named', () => {
    expect(() => generateSyntheticMarket({ bars: 1 })).toThrow(/bars/);
    expect(() => generateSyntheticMarket({ garchAlpha: 0.5, garchBeta: 0.6 })).toThrow(/garchAlpha/);
    expect(() => generateSyntheticMarket({ tailDf: 2 })).toThrow(/tailDf/);
  });
});
