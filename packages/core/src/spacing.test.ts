import { describe, expect, it } from 'vitest';
import { formatCandlesCsv, parseCandlesCsv } from './csv.js';
import { DataError } from './errors.js';
import { checkCandleSpacing, medianSpacingMs } from './spacing.js';
import { generateSyntheticMarket } from './synthetic.js';

const cols = (ts: number[]) => {
  const n = ts.length;
  const f = () => new Float64Array(n).fill(1);
  return { length: n, tsMs: Float64Array.from(ts), open: f(), high: f(), low: f(), close: f(), volume: f(), turnover: f() };
};

describe('medianSpacingMs', () => {
  it('is the median of the gaps between neighbours, hand-computed', () => {
    // gaps 1, 1, 5, 1, 100 (sorted 1 1 1 5 100): median 1
    expect(medianSpacingMs(cols([0, 1, 2, 7, 8, 108]))).toBe(1);
    // gaps 2, 4, 6, 8: median (4 + 6) / 2
    expect(medianSpacingMs(cols([0, 2, 6, 12, 20]))).toBe(5);
    // a descending file spaces like an ascending one; duplicates do not count
    expect(medianSpacingMs(cols([30, 20, 20, 10, 0]))).toBe(10);
    expect(medianSpacingMs(cols([5]))).toBeNaN();
  });
});

describe('checkCandleSpacing: data must be what it claims', () => {
  const m1 = generateSyntheticMarket({ bars: 600, seed: 3, interval: '1m' }).candles;
  const h1 = generateSyntheticMarket({ bars: 600, seed: 3, interval: '1h' }).candles;

  it('accepts candles of their interval, gaps and all', () => {
    expect(() => checkCandleSpacing(h1, '1h', 'h.csv')).not.toThrow();
    // every 5th hour missing (gaps 2, 1, 1, 1 h): the median is still one hour
    const sparse = Array.from(h1.tsMs).filter((_, i) => i % 5 !== 1);
    expect(() => checkCandleSpacing(cols(sparse), '1h')).not.toThrow();
    // every other hour missing in most places is no longer a 1h file: refused, naming 2h
    const half = Array.from(h1.tsMs).filter((_, i) => i % 5 !== 1 && i % 5 !== 3);
    expect(() => checkCandleSpacing(cols(half), '1h')).toThrow(/candles are 2h apart/);
  });

  it('refuses a 1m file read as 1h (e.g. named _1h), naming the interval it holds', () => {
    expect(() => checkCandleSpacing(m1, '1h', 'bybit_BTCUSDT_1h.csv')).toThrow(DataError);
    expect(() => checkCandleSpacing(m1, '1h', 'bybit_BTCUSDT_1h.csv')).toThrow(/bybit_BTCUSDT_1h\.csv is read as 1h but its candles are 1m apart/);
    // and through the CSV reader, before any repair: 'ffill' would otherwise make a 1h file read as 1m look like 1m
    expect(() => parseCandlesCsv(formatCandlesCsv(h1), { interval: '1m', policy: 'ffill' }, 'x_1m.csv')).toThrow(/x_1m\.csv is read as 1m but its candles are 1h apart/);
  });

  it('refuses timestamps in seconds, with the fix', () => {
    const secs = cols(Array.from(h1.tsMs, (t) => t / 1000));
    expect(() => checkCandleSpacing(secs, '1h', 's.csv')).toThrow(/s\.csv: timestamps are in seconds, not milliseconds .*multiply it by 1000/);
    // a seconds file of another interval says seconds too, not "wrong interval"
    const secs1m = cols(Array.from(m1.tsMs, (t) => t / 1000));
    expect(() => checkCandleSpacing(secs1m, '1h', 's.csv')).toThrow(/in seconds/);
    expect(() => parseCandlesCsv(formatCandlesCsv({ ...h1, tsMs: Float64Array.from(h1.tsMs, (t) => t / 1000) }), { interval: '1h' }, 's.csv')).toThrow(/in seconds/);
    // times in 1970 spaced an interval's length in seconds: seconds as well
    expect(() => checkCandleSpacing(cols([0, 3600, 7200, 10800]), '1h', 'ms.csv')).toThrow(/in seconds/);
    // 3.6 s apart in 2024 is no interval in seconds: a wrong interval
    const t0 = Date.UTC(2024, 0, 1);
    expect(() => checkCandleSpacing(cols([t0, t0 + 3600, t0 + 7200, t0 + 10800]), '1h', 'odd.csv')).toThrow(/odd\.csv is read as 1h but its candles are 3600 ms apart/);
  });
});
