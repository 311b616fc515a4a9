import { describe, expect, it } from 'vitest';
import { formatCandlesCsv } from './csv.js';
import { autocorrelation, excessKurtosis, logReturns, correlation } from './stats.js';
import { DEFAULT_REGIME_PARAMS, generateSyntheticMarket } from './synthetic.js';
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
    expect(drift[k('bull')]!).toBeGreaterThan(0.0003);
    expect(drift[k('bear')]!).toBeLessThan(-0.0003);
    expect(vol[k('bear')]!).toBeGreaterThan(vol[k('bull')]!); // crypto: bear markets are the more volatile
  });

  it('is of the order of real 1h crypto (Bybit BTC/ETH/SOL 2021-2025: std 0.64-1.16%, |r| lag-1 ACF 0.28, no lag-1 return ACF)', () => {
    const sd = Math.sqrt(r.reduce((a, v) => a + v * v, 0) / r.length);
    expect(sd).toBeGreaterThan(0.004);
    expect(sd).toBeLessThan(0.012);
    expect(Math.abs(autocorrelation(r, 1))).toBeLessThan(0.05);
    const a = Float64Array.from(r, Math.abs);
    expect(autocorrelation(a, 1)).toBeGreaterThan(0.15);
    expect(autocorrelation(a, 1)).toBeLessThan(0.45);
    expect(autocorrelation(a, 24)).toBeGreaterThan(0.08); // clustering lasts beyond a day
    expect(excessKurtosis(r)).toBeGreaterThan(3);
  });

  it('does not trend absurdly: 3-week (504-bar) moves are of crypto size, never beyond the largest real one', () => {
    const c = m.candles.close;
    const moves: number[] = [];
    for (let i = 0; i + 504 < c.length; i += 24) moves.push(Math.abs(Math.log(c[i + 504]! / c[i]!)));
    moves.sort((x, y) => x - y);
    const median = moves[moves.length >> 1]!;
    // real: BTC 7.7%, ETH 10.6%, SOL 15.8% median |log move| over 3 weeks
    expect(median).toBeGreaterThan(0.04);
    expect(median).toBeLessThan(0.2);
    // real, same windows (every 24 bars, 2021 on): largest |log move| BTC 0.55, ETH 0.61, SOL 1.02
    expect(moves[moves.length - 1]!).toBeLessThan(1.02);
  });

  it('mean-reverts in sideways and low-volatility regimes and trends in bull/bear (24-bar variance ratio)', () => {
    const c = m.candles.close;
    const vr = REGIMES.map((_, k) => {
      let s1 = 0;
      let n1 = 0;
      let s24 = 0;
      let n24 = 0;
      for (let i = 1; i < c.length; i++) if (m.regimes[i] === k) (s1 += r[i - 1]! ** 2), n1++;
      outer: for (let i = 0; i + 24 < c.length; i++) {
        for (let j = i + 1; j <= i + 24; j++) if (m.regimes[j] !== k) continue outer;
        s24 += Math.log(c[i + 24]! / c[i]!) ** 2;
        n24++;
      }
      return s24 / n24 / ((24 * s1) / n1);
    });
    // a random walk has VR = 1; reversion pulls it below, drift pushes it above
    expect(vr[REGIMES.indexOf('sideways')]!).toBeLessThan(0.85);
    expect(vr[REGIMES.indexOf('low_volatility')]!).toBeLessThan(0.85);
    expect(vr[REGIMES.indexOf('bull')]!).toBeGreaterThan(1);
    expect(vr[REGIMES.indexOf('bear')]!).toBeGreaterThan(1);
  });

  it('exposes the true conditional volatility: standardised returns have unit variance', () => {
    expect(m.sigma.length).toBe(m.candles.length);
    let s = 0;
    let n = 0;
    for (let i = 1; i < m.candles.length; i++) {
      const name = REGIMES[m.regimes[i]!]!;
      if (DEFAULT_REGIME_PARAMS[name].reversion) continue; // the reversion term adds to the shock
      const z = (r[i - 1]! - DEFAULT_REGIME_PARAMS[name].drift) / m.sigma[i]!;
      if (Math.abs(z) > 20) continue; // jumps
      s += z * z;
      n++;
    }
    expect(s / n).toBeGreaterThan(0.9);
    expect(s / n).toBeLessThan(1.2);
  });

  it('ties volume to |return|', () => {
    const a = Float64Array.from(r, Math.abs);
    expect(correlation(a, m.candles.volume.subarray(1))).toBeGreaterThan(0.3);
  });

  it('rejects bad options with the field named', () => {
    expect(() => generateSyntheticMarket({ bars: 1 })).toThrow(/bars/);
    expect(() => generateSyntheticMarket({ garchAlpha: 0.5, garchBeta: 0.6 })).toThrow(/garchAlpha/);
    expect(() => generateSyntheticMarket({ tailDf: 2 })).toThrow(/tailDf/);
    expect(() => generateSyntheticMarket({ regimes: { bull: { drift: 0, vol: 0.01, reversion: 1 } } })).toThrow(/regimes\.bull\.reversion/);
  });
});
