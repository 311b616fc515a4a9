import { describe, expect, it } from 'vitest';
import { parseCandlesCsv, parseCandlesCsvRaw } from './csv.js';
import { TaError } from './errors.js';
import { CandleValidationError, repairCandles, validateCandles } from './validate.js';

const H = 'timestamp,open,high,low,close,volume,turnover';
const HOUR = 3_600_000;
// A crafted file with one of each problem (row indices are 0-based data rows).
const BAD = [
  H,
  `${0 * HOUR},100,101,99,100.5,10,`, // 0 ok
  `${1 * HOUR},100.5,102,100,101,12,`, // 1 ok
  `${2 * HOUR},101,abc,100,101.5,9,`, // 2 high not a number
  `${3 * HOUR},101.5,102,101,-1,9,`, // 3 close non-positive
  `${4 * HOUR},101,100,99,100.8,9,`, // 4 high < max(open, close)
  `${5 * HOUR},100,101,100.5,100.7,9,`, // 5 low > min(open, close)
  `${6 * HOUR},100.7,101,100,100.9,-3,`, // 6 negative volume
  `${6 * HOUR},100.9,101,100,101,5,`, // 7 duplicate timestamp
  `${5 * HOUR},101,101.2,100.8,101.1,5,`, // 8 unsorted
  `${9 * HOUR},101,101.5,100.5,101.2,5,`, // 9 gap: hours 7 and 8 missing
  `${10 * HOUR},101.2,101.6,101,101.4,6,`, // 10 ok
].join('\n');

describe('validateCandles', () => {
  const raw = parseCandlesCsvRaw(BAD);
  const report = validateCandles(raw, { interval: '1h' });

  it('reports each problem with its row and field', () => {
    const got = report.issues.map((i) => [i.kind, i.row, i.field]);
    expect(got).toEqual([
      ['not_a_number', 2, 'high'],
      ['non_positive_price', 3, 'close'],
      ['high_below_open_close', 4, 'high'],
      ['low_above_open_close', 5, 'low'],
      ['negative_volume', 6, 'volume'],
      ['duplicate', 7, 'timestamp'],
      ['unsorted', 8, 'timestamp'],
      ['gap', 9, 'timestamp'],
    ]);
    expect(report.missingIntervals).toBe(2);
    expect(report.issues.find((i) => i.kind === 'gap')!.missing).toBe(2);
    expect(report.ok).toBe(false);
    expect(report.counts).toMatchObject({ gap: 1, duplicate: 1, unsorted: 1 });
  });

  it('rejects by default with a message that lists the rows', () => {
    let err: unknown;
    try {
      parseCandlesCsv(BAD, { interval: '1h' }, 'bad.csv');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CandleValidationError);
    const msg = (err as Error).message;
    expect(msg).toContain('bad.csv: 8 issue(s) in 11 rows');
    // file lines (the header is line 1), as the parser's own messages count them
    expect(msg).toContain('line 4 (high): high is not a number');
    expect(msg).toContain('line 11 (timestamp): 2 missing interval(s)');
    expect(msg).not.toMatch(/\brow \d/);
    expect(msg).toContain("'reject' (default), 'drop' or 'ffill'");
  });

  it("'drop' removes bad, duplicate and out-of-order rows and keeps the gaps (reported)", () => {
    const r = repairCandles(raw, { interval: '1h', policy: 'drop' });
    expect(Array.from(r.candles.tsMs).map((t) => t / HOUR)).toEqual([0, 1, 9, 10]);
    expect(r.dropped).toBe(7);
    expect(r.filled).toBe(0);
    expect(r.report.issues.length).toBe(8);
    // rows 2..6 dropped; what is left re-validates except the gap (1 -> 9)
    const again = validateCandles(r.candles, { interval: '1h' });
    expect(again.issues.map((i) => i.kind)).toEqual(['gap']);
  });

  it("'ffill' replaces bad rows and fills gaps with flat candles at the previous close", () => {
    const r = repairCandles(raw, { interval: '1h', policy: 'ffill' });
    expect(Array.from(r.candles.tsMs).map((t) => t / HOUR)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(r.dropped).toBe(2); // the duplicate and the out-of-order row
    expect(r.filled).toBe(7); // 5 bad rows + 2 missing hours
    for (const i of [2, 3, 4, 5, 6, 7, 8]) {
      expect(r.candles.close[i]).toBe(101);
      expect(r.candles.open[i]).toBe(101);
      expect(r.candles.volume[i]).toBe(0);
    }
    expect(validateCandles(r.candles, { interval: '1h' }).ok).toBe(true);
  });

  it('accepts a clean series and leaves it untouched', () => {
    const clean = parseCandlesCsvRaw([H, `0,1,2,0.5,1.5,3,`, `${HOUR},1.5,2,1,1.2,4,`].join('\n'));
    const r = repairCandles(clean, { interval: '1h' });
    expect(r.report.ok).toBe(true);
    expect(r.candles).toBe(clean);
  });
});

describe('a timestamp mistyped far ahead (issue 24, item 7)', () => {
  const MIN = 60_000;
  const YEAR100 = 100 * 365 * 24 * HOUR;
  // 20 good 1h rows; row 5 has its timestamp typed 100 years ahead.
  const rows = (interval: number, n: number, bogus: number): string =>
    [
      H,
      ...Array.from({ length: n }, (_, i) => {
        const ts = i * interval + (i === bogus ? YEAR100 : 0);
        return `${ts},100,101,99,100.5,10,`;
      }),
    ].join('\n');

  it('reports the bogus row as a time outlier, not the good rows after it as unsorted', () => {
    const report = validateCandles(parseCandlesCsvRaw(rows(HOUR, 20, 5)), { interval: '1h' });
    // the bogus row leaves its hour missing: one gap of 1 before row 6
    expect(report.issues.map((i) => [i.kind, i.row])).toEqual([['time_outlier', 5], ['gap', 6]]);
    expect(report.issues[0]!.message).toContain('out of line');
    expect(report.missingIntervals).toBe(1);
  });

  it("'drop' drops the bogus row and keeps every good row after it", () => {
    const r = repairCandles(parseCandlesCsvRaw(rows(HOUR, 20, 5)), { interval: '1h', policy: 'drop' });
    expect(r.dropped).toBe(1);
    expect(Array.from(r.candles.tsMs).map((t) => t / HOUR)).toEqual([0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  });

  it("'ffill' drops the bogus row and fills only the one missing bar it leaves", () => {
    const r = repairCandles(parseCandlesCsvRaw(rows(HOUR, 20, 5)), { interval: '1h', policy: 'ffill' });
    expect(r.dropped).toBe(1);
    expect(r.filled).toBe(1);
    expect(r.candles.length).toBe(20);
    expect(validateCandles(r.candles, { interval: '1h' }).ok).toBe(true);
  });

  it('a bogus last row (no good row after it) is still a gap; ffill refuses it without an explicit cap, naming the gap and the option', () => {
    // On a 1m file a 100-year gap is 52 million bars: this must fail fast, without allocating them.
    const raw = parseCandlesCsvRaw(rows(MIN, 10, 9));
    let err: unknown;
    try {
      repairCandles(raw, { interval: '1m', policy: 'ffill', source: 'btc_1m.csv' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TaError);
    const msg = (err as Error).message;
    expect(msg).toContain('btc_1m.csv');
    expect(msg).toContain('row 9');
    expect(msg).toMatch(/52,5\d\d,\d{3} missing 1m bars/);
    expect(msg).toContain('maxFillBars');
    expect(msg.split('\n').length).toBe(1);
  });

  it('fills up to 1,000 bars per gap by default, more only when asked', () => {
    const csv = (missing: number): string => [H, `0,100,101,99,100.5,10,`, `${(missing + 1) * MIN},100,101,99,100.5,10,`].join('\n');
    expect(repairCandles(parseCandlesCsvRaw(csv(1000)), { interval: '1m', policy: 'ffill' }).filled).toBe(1000);
    expect(() => repairCandles(parseCandlesCsvRaw(csv(1001)), { interval: '1m', policy: 'ffill' })).toThrow(/1,001 missing 1m bars .* maxFillBars/);
    expect(repairCandles(parseCandlesCsvRaw(csv(1001)), { interval: '1m', policy: 'ffill', maxFillBars: 1001 }).filled).toBe(1001);
    expect(() => repairCandles(parseCandlesCsvRaw(csv(5)), { interval: '1m', policy: 'ffill', maxFillBars: -1 })).toThrow(/maxFillBars/);
  });

  it('two bogus rows in a row and an out-of-order row are handled the same way', () => {
    const ts = [0, 1, 2, YEAR100 / HOUR, YEAR100 / HOUR + 1, 3, 4, 6, 5, 7].map((h) => h * HOUR);
    const raw = parseCandlesCsvRaw([H, ...ts.map((t) => `${t},100,101,99,100.5,10,`)].join('\n'));
    const report = validateCandles(raw, { interval: '1h' });
    expect(report.issues.map((i) => [i.kind, i.row])).toEqual([
      ['time_outlier', 3],
      ['time_outlier', 4],
      ['unsorted', 8],
      ['gap', 7],
    ].sort((a, b) => (a[1] as number) - (b[1] as number)));
    const r = repairCandles(raw, { interval: '1h', policy: 'drop' });
    expect(Array.from(r.candles.tsMs).map((t) => t / HOUR)).toEqual([0, 1, 2, 3, 4, 6, 7]);
  });
});
