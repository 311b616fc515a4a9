import { describe, expect, it } from 'vitest';
import { DataError, allocColumns, generateSyntheticMarket } from '@task-agnostic/core';
import type { CandleColumns } from '@task-agnostic/core';
import { barReturns, comparisonRows, renderComparisonHtml, runNaiveStrategies } from './comparison.js';
import { runSignalBacktest } from './engine.js';
import { buyAndHoldSignal, momentumSignal, naiveSignals, volTargetFractions } from './naive-strategies.js';
import { renderReportHtml } from './report-html.js';
import { backtestReportJson } from './report-json.js';

/** Candles whose open = close of the previous bar, high/low 1% around. */
function fromCloses(close: number[]): CandleColumns {
  const c = allocColumns(close.length);
  for (let i = 0; i < close.length; i++) {
    const o = i === 0 ? close[0]! : close[i - 1]!;
    c.tsMs[i] = Date.UTC(2025, 0, 1) + i * 3_600_000;
    c.open[i] = o;
    c.close[i] = close[i]!;
    c.high[i] = Math.max(o, close[i]!) * 1.01;
    c.low[i] = Math.min(o, close[i]!) * 0.99;
    c.volume[i] = 1;
  }
  return c;
}

const VT = { targetAnnualVol: 0.4, barsPerYear: 8760, maxLeverage: 1 };

describe('buy-and-hold through the engine', () => {
  const closes = [100, 102, 101, 105, 110, 108, 112];
  it('without costs: equity = E0 x close / open of the fill bar, by hand', () => {
    const c = fromCloses(closes);
    const r = runSignalBacktest(c, buyAndHoldSignal(c.length), { takerFeeRate: 0, makerFeeRate: 0, slippage: { model: 'fixed', rate: 0 }, interval: '1h' });
    expect(r.equity[0]).toBe(10_000); // decided at bar 0's close, filled at bar 1's open (100)
    for (let t = 1; t < c.length; t++) expect(r.equity[t]).toBeCloseTo((10_000 * closes[t]!) / 100, 8);
    expect(r.metrics.trades).toBe(1);
  });
  it('with 0.1% fees and 0.05% slippage: entry and exit costs by hand', () => {
    const c = fromCloses(closes);
    const r = runSignalBacktest(c, buyAndHoldSignal(c.length), { interval: '1h' });
    // The largest fraction whose margin and fee fit: 1 / ((1 + slip)(1 + fee)).
    const frac = 1 / (1.0005 * 1.001);
    const qty = (frac * 10_000) / 100;
    const entry = 100 * 1.0005;
    const exit = 112 * (1 - 0.0005);
    const want = 10_000 - qty * entry * 0.001 + qty * (exit - entry) - qty * exit * 0.001;
    expect(r.metrics.finalEquity).toBeCloseTo(want, 6);
    expect(r.metrics.feesPaid).toBeCloseTo(qty * entry * 0.001 + qty * exit * 0.001, 8);
  });
});

describe('volatility targeting and momentum', () => {
  it('size = target / (forecast x sqrt(bars per year)), capped at max leverage, by hand', () => {
    const f = volTargetFractions([0.01, 0.002, 0.02], VT);
    expect(f[0]).toBeCloseTo(0.4 / (0.01 * Math.sqrt(8760)), 12); // 0.4274
    expect(f[1]).toBe(1); // 2.14x capped
    expect(f[2]).toBeCloseTo(0.4 / (0.02 * Math.sqrt(8760)), 12);
  });
  it('momentum: the sign of the trailing N-bar return x the vol-targeted size; flat before N bars', () => {
    const close = [100, 101, 102, 101, 99, 98, 99, 100];
    const f = new Array(close.length).fill(0.01);
    const s = momentumSignal(close, 2, f, VT);
    const k = 0.4 / (0.01 * Math.sqrt(8760));
    // t=2: 102/100 up; t=3: 101/101 zero; t=4: 99/102 down; 5: 98/101 down; 6: 99/99 zero; 7: 100/98 up
    expect(Array.from(s)).toEqual([0, 0, k, 0, -k, -k, 0, k].map((x) => (x === 0 ? 0 : expect.closeTo(x, 12))));
  });
  it('no look-ahead: changing bars after t changes no signal at or before t', () => {
    const c = generateSyntheticMarket({ bars: 600, seed: 5 }).candles;
    const f = new Float64Array(c.length).fill(0.008);
    const a = momentumSignal(c.close, 24, f, VT);
    const close2 = Float64Array.from(c.close);
    for (let t = 400; t < close2.length; t++) close2[t] = close2[t]! * (t % 2 ? 1.3 : 0.7);
    const b = momentumSignal(close2, 24, f, VT);
    expect(Array.from(b.subarray(0, 400))).toEqual(Array.from(a.subarray(0, 400)));
  });
  it('rebalanceEvery keeps every k-th decision and the position in between', () => {
    const c = generateSyntheticMarket({ bars: 100, seed: 5 }).candles;
    const f = Float64Array.from({ length: 100 }, (_, i) => 0.005 + 0.0001 * i);
    const [, vt, mom] = naiveSignals(c, { volatilityForecast: f, momentumLookback: 10, rebalanceEvery: 24 });
    const full = volTargetFractions(f, VT);
    for (let t = 0; t < 100; t++) expect(vt!.signal[t]).toBe(t % 24 === 0 ? full[t] : NaN);
    expect(Array.from(mom!.signal).filter((x) => !Number.isNaN(x)).length).toBe(5); // t = 0, 24, 48, 72, 96
    expect(() => naiveSignals(c, { volatilityForecast: f, rebalanceEvery: 0 })).toThrow(/rebalanceEvery/);
  });
  it('bad input: a NaN forecast, a wrong length or a bad lookback is a DataError naming it', () => {
    expect(() => volTargetFractions([0.01, NaN], VT)).toThrow(/forecast\[1\]/);
    expect(() => volTargetFractions([0.01], { ...VT, targetAnnualVol: -1 })).toThrow(DataError);
    expect(() => momentumSignal([1, 2, 3], 1, [0.01], VT)).toThrow(/1 values for 3 candles/);
    expect(() => momentumSignal([1, 2, 3], 0, [0.01, 0.01, 0.01], VT)).toThrow(/lookback/);
    const c = fromCloses([1, 2, 3]);
    expect(() => naiveSignals(c, { volatilityForecast: [0.01] })).toThrow(/1 values for 3 candles/);
  });
});

describe('the comparison', () => {
  const c = generateSyntheticMarket({ bars: 2000, seed: 9 }).candles;
  const forecast = new Float64Array(c.length).fill(0.006);
  const cfg = { symbol: 'SYN', interval: '1h' as const };
  const naive = runNaiveStrategies(c, cfg, { volatilityForecast: forecast, momentumLookback: 48 });
  it('runs buy-and-hold, vol-targeted buy-and-hold and momentum; without a forecast only buy-and-hold', () => {
    expect(naive.map((r) => r.name)).toEqual(['buy-and-hold', 'vol-targeted buy-and-hold', 'time-series momentum']);
    expect(runNaiveStrategies(c, cfg).map((r) => r.name)).toEqual(['buy-and-hold']);
    // a constant forecast: vol-targeted buy-and-hold is buy-and-hold at 0.4 / (0.006 sqrt(8760)) = 0.712 of equity, one trade
    const vt = naive[1]!.result;
    expect(vt.metrics.trades).toBe(1);
    expect(vt.metrics.exposure).toBeGreaterThan(0.99);
    expect(vt.fills[0]!.qty * vt.fills[0]!.price).toBeCloseTo(0.4 / (0.006 * Math.sqrt(8760)) * 10_000, -1);
  });
  it('rows carry return, Sharpe, Sortino, drawdown, turnover, fees and trades of each run', () => {
    const rows = comparisonRows(naive);
    for (const [i, r] of rows.entries()) {
      const m = naive[i]!.result.metrics;
      expect([r.totalReturn, r.sharpe, r.sortino, r.maxDrawdown, r.turnover, r.feesPaid, r.trades]).toEqual([m.totalReturn, m.sharpe, m.sortino, m.maxDrawdown, m.turnover, m.feesPaid, m.trades]);
    }
    expect(rows[2]!.trades).toBeGreaterThan(5);
    expect(rows[2]!.feesPaid).toBeGreaterThan(rows[1]!.feesPaid);
  });
  it('barReturns compound back to the equity curve', () => {
    const r = naive[2]!.result;
    const ret = barReturns(r);
    let e = r.initialEquity;
    for (const x of ret) e *= 1 + x;
    expect(e).toBeCloseTo(r.metrics.finalEquity, 6);
  });
  it('HTML: one chart with every curve and the table; JSON: the rows and curves', () => {
    const withCi = naive.map((r, i) => (i === 0 ? { ...r, sharpeInterval: { lo: -1.5, hi: 2.25, level: 0.95 } } : r));
    const frag = renderComparisonHtml(withCi);
    for (const n of ['buy-and-hold', 'vol-targeted buy-and-hold', 'time-series momentum', 'Fees paid', 'Turnover', 'Sortino', '[-1.50, 2.25]', '95% CI']) expect(frag).toContain(n);
    const html = renderReportHtml(naive[2]!.result, { comparison: withCi });
    expect(html).toContain('Against the naive strategies');
    const json = backtestReportJson(naive[2]!.result, withCi);
    expect(json.strategies!.map((s) => s.name)).toEqual(['buy-and-hold', 'vol-targeted buy-and-hold', 'time-series momentum']);
    expect(json.strategies![0]!.sharpeInterval).toEqual({ lo: -1.5, hi: 2.25, level: 0.95 });
    expect(json.strategies![1]!.equity.length).toBe(c.length);
    expect(backtestReportJson(naive[0]!.result).strategies).toBeUndefined();
  });
});
