// Proof against an independent implementation: every indicator technicalindicators 3.1 also
// computes, on real Bybit BTCUSDT 1h data, within 1e-9 relative. RSI and MFI are rounded to 2
// decimals by the reference (RSI: parseFloat(x.toFixed(2)); MFI: the same on its output), so they
// are compared at 0.005 absolute on the 0-100 scale. Rescaled outputs (RSI/100, MACD hist/close,
// ATR/close, ...) are mapped back to the reference's units before comparing.
import { describe, expect, it } from 'vitest';
import { readCandlesCsvSync, sliceColumns, type CandleColumns } from '@task-agnostic/core';
import { candleFile } from '@task-agnostic/test-utils';
import { ADX, ATR, BollingerBands, CCI, EMA, MACD, MFI, OBV, ROC, RSI, SMA, Stochastic, VWAP, WilliamsR } from 'technicalindicators';
import { computeFeaturesF64, type FeatureMatrix64 } from './batch.js';

const file = candleFile('bybit_BTCUSDT_1h.csv');

/** Relative error with a floor: |a - b| / max(|b|, floor). */
function relErr(a: number, b: number, floor: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(b), floor);
}

interface Compared {
  readonly n: number;
  readonly maxRel: number;
  readonly maxAbs: number;
}

/**
 * Compares our column (mapped by `ours`) with a reference series aligned by its end (the last
 * reference value belongs to the last candle). Rows before our warm-up are skipped.
 */
function compare(m: FeatureMatrix64, ref: readonly (number | undefined)[], ours: (row: number) => number, floor = 1e-12): Compared {
  let n = 0;
  let maxRel = 0;
  let maxAbs = 0;
  for (let k = 0; k < ref.length; k++) {
    const row = m.rows - ref.length + k;
    const r = ref[k];
    if (row < m.warmup || r === undefined || !Number.isFinite(r)) continue;
    const o = ours(row);
    maxRel = Math.max(maxRel, relErr(o, r, floor));
    maxAbs = Math.max(maxAbs, Math.abs(o - r));
    n++;
  }
  if (process.env.TAT_DEBUG_REF) console.log(n, maxRel, maxAbs);
  return { n, maxRel, maxAbs };
}

function slices(c: CandleColumns): [string, CandleColumns][] {
  // Three regimes of the series: 2020 (early, thin), 2022 (bear), the last 3,000 bars.
  return [
    ['rows 2000-5000', sliceColumns(c, 2000, 5000)],
    ['rows 20000-23000', sliceColumns(c, 20000, 23000)],
    ['last 3000', sliceColumns(c, c.length - 3000)],
  ];
}

describe.skipIf(!file)('indicators match technicalindicators on bybit_BTCUSDT_1h.csv', () => {
  const all = file ? readCandlesCsvSync(file, { interval: '1h' }).candles : null;
  for (const [label, c] of all ? slices(all) : []) {
    describe(label, () => {
      const m = computeFeaturesF64(c);
      const col = (name: string) => {
        const j = m.names.indexOf(name);
        expect(j, name).toBeGreaterThanOrEqual(0);
        return (row: number) => m.data[row * m.cols + j]!;
      };
      const close = Array.from(c.close);
      const high = Array.from(c.high);
      const low = Array.from(c.low);
      const volume = Array.from(c.volume);
      const hlc = { high, low, close };
      const expectRel = (r: Compared, tol = 1e-9) => {
        expect(r.n).toBeGreaterThan(2500);
        expect(r.maxRel).toBeLessThan(tol);
      };

      it('RSI(14) (reference rounded to 2 decimals: 0.005 absolute)', () => {
        const f = col('rsi_14');
        const r = compare(m, RSI.calculate({ period: 14, values: close }), (i) => f(i) * 100);
        expect(r.n).toBeGreaterThan(2500);
        expect(r.maxAbs).toBeLessThanOrEqual(0.005 + 1e-9);
      });
      it('MACD(12,26,9) histogram', () => {
        const f = col('macd_hist_12_26_9');
        const ref = MACD.calculate({ values: close, fastPeriod: 12, slowPeriod: 26, signalPeriod: 9, SimpleMAOscillator: false, SimpleMASignal: false });
        // Floor: the histogram crosses 0; 1e-6 of the price is far below any meaningful value.
        expectRel(compare(m, ref.map((x) => x.histogram), (i) => f(i) * c.close[i]!, 1e-6 * close[close.length - 1]!));
      });
      it('Bollinger %b (20, 2, population std)', () => {
        const f = col('bb_position_20');
        expectRel(compare(m, BollingerBands.calculate({ period: 20, stdDev: 2, values: close }).map((x) => x.pb), f, 1e-6));
      });
      it('ATR(14), Wilder', () => {
        const f = col('atr_ratio_14');
        expectRel(compare(m, ATR.calculate({ ...hlc, period: 14 }), (i) => f(i) * c.close[i]!));
      });
      it('Stochastic %K(14) and %D(3)', () => {
        const k = col('stoch_k_14');
        const d = col('stoch_d_14_3');
        const ref = Stochastic.calculate({ ...hlc, period: 14, signalPeriod: 3 });
        expectRel(compare(m, ref.map((x) => x.k), (i) => k(i) * 100, 1e-6));
        expectRel(compare(m, ref.map((x) => x.d), (i) => d(i) * 100, 1e-6));
      });
      it('CCI(20)', () => {
        const f = col('cci_20');
        expectRel(compare(m, CCI.calculate({ ...hlc, period: 20 }), (i) => f(i) * 100, 1e-6));
      });
      it('Williams %R(14)', () => {
        const f = col('williams_r_14');
        expectRel(compare(m, WilliamsR.calculate({ ...hlc, period: 14 }), (i) => f(i) * 100, 1e-6));
      });
      it('ADX(14) and +DI - -DI', () => {
        const a = col('adx_14');
        const dd = col('di_diff_14');
        const ref = ADX.calculate({ ...hlc, period: 14 });
        expectRel(compare(m, ref.map((x) => x.adx), (i) => a(i) * 100));
        expectRel(compare(m, ref.map((x) => x.pdi - x.mdi), (i) => dd(i) * 100, 1e-6));
      });
      it('OBV: change over 20 bars / volume of those bars', () => {
        const f = col('obv_change_20');
        const obv = OBV.calculate({ close, volume }); // obv[k] belongs to bar k+1
        const ref = obv.map((x, k) => {
          const bar = k + 1;
          if (bar < 21) return undefined;
          let v = 0;
          for (let j = bar - 19; j <= bar; j++) v += volume[j]!;
          return (x - obv[k - 20]!) / v;
        });
        expectRel(compare(m, ref, f, 1e-6));
      });
      it('MFI(14) (reference rounded to 2 decimals: 0.005 absolute)', () => {
        const f = col('mfi_14');
        const r = compare(m, MFI.calculate({ ...hlc, volume, period: 14 }), (i) => f(i) * 100);
        expect(r.n).toBeGreaterThan(2500);
        expect(r.maxAbs).toBeLessThanOrEqual(0.005 + 1e-9);
      });
      it('SMA(10/20/30/50/100) through ma_cross and dist_sma', () => {
        const ref = (p: number) => SMA.calculate({ period: p, values: close });
        for (const p of [20, 50, 100]) {
          const f = col(`dist_sma_${p}`);
          expectRel(compare(m, ref(p), (i) => c.close[i]! / (1 + f(i))));
        }
        const s30 = ref(30);
        const x = col('ma_cross_10_30');
        const s30At = (i: number) => s30[i - 29]!;
        expectRel(compare(m, ref(10), (i) => (1 + x(i)) * s30At(i)));
      });
      it('EMA(20) through dist_ema', () => {
        const f = col('dist_ema_20');
        expectRel(compare(m, EMA.calculate({ period: 20, values: close }), (i) => c.close[i]! / (1 + f(i))));
      });
      it('ROC(10)', () => {
        const f = col('roc_10');
        expectRel(compare(m, ROC.calculate({ period: 10, values: close }), (i) => f(i) * 100, 1e-6));
      });
      it('VWAP over the last 20 bars (reference VWAP run on each 20-bar slice)', () => {
        const f = col('vwap_dev_20');
        let worst = 0;
        for (let i = m.warmup; i < m.rows; i += 7) {
          const s = { high: high.slice(i - 19, i + 1), low: low.slice(i - 19, i + 1), close: close.slice(i - 19, i + 1), volume: volume.slice(i - 19, i + 1) };
          const v = VWAP.calculate(s);
          const ref = v[v.length - 1]!;
          worst = Math.max(worst, relErr(c.close[i]! / (1 + f(i)), ref, 1e-12));
        }
        expect(worst).toBeLessThan(1e-9);
      });
    });
  }
});
