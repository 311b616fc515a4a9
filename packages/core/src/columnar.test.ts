import { describe, expect, it } from 'vitest';
import { concatColumns, fromColumns, lowerBound, sliceColumns, toColumns } from './columnar.js';

describe('columnar candles', () => {
  const candles = [
    { tsMs: 0, open: 1, high: 2, low: 0.5, close: 1.5, volume: 3 },
    { tsMs: 60, open: 1.5, high: 2, low: 1, close: 1.2, volume: 4, turnover: 5 },
    { tsMs: 120, open: 1.2, high: 1.3, low: 1, close: 1.1, volume: 2 },
  ];
  it('round-trips objects and columns', () => {
    expect(fromColumns(toColumns(candles))).toEqual(candles);
  });
  it('slices without copying and concatenates', () => {
    const c = toColumns(candles);
    const s = sliceColumns(c, 1, 3);
    expect(s.length).toBe(2);
    expect(s.close.buffer).toBe(c.close.buffer);
    expect(fromColumns(concatColumns([sliceColumns(c, 0, 1), s]))).toEqual(candles);
  });
  it('finds the first row at or after a time', () => {
    const c = toColumns(candles);
    expect(lowerBound(c, 60)).toBe(1);
    expect(lowerBound(c, 61)).toBe(2);
    expect(lowerBound(c, 1000)).toBe(3);
  });
});
