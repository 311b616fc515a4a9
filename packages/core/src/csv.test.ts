import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { candleFile } from '@task-agnostic/test-utils';
import { formatCandlesCsv, formatDecimal, parseCandlesCsv, parseCandlesCsvRaw, readCandlesCsv, writeCandlesCsv } from './csv.js';
import { DataError } from './errors.js';

describe('candle CSV on real files', () => {
  const btc = candleFile('bybit_BTCUSDT_1h.csv');
  it.skipIf(!btc)('reads bybit_BTCUSDT_1h.csv: 49,118 rows, no gaps, and writes it back byte for byte', async () => {
    const res = await readCandlesCsv(btc!, { interval: '1h' });
    expect(res.candles.length).toBe(49118);
    expect(res.report.ok).toBe(true);
    expect(res.report.missingIntervals).toBe(0);
    // first row of the file, checked by hand
    const firstLine = readFileSync(btc!, 'utf8').split('\n')[1]!.split(',');
    expect(res.candles.tsMs[0]).toBe(Number(firstLine[0]));
    expect(res.candles.close[0]).toBe(Number(firstLine[4]));
    expect(Number.isNaN(res.candles.turnover[0]!)).toBe(true); // turnover empty in the early part
    expect(Number.isNaN(res.candles.turnover[49117]!)).toBe(false); // filled in the recent part
    expect(formatCandlesCsv(res.candles)).toBe(readFileSync(btc!, 'utf8'));
  });

  for (const name of ['bybit_ETHUSDT_1h.csv', 'binance_SOLUSDT_1h.csv', 'bybit_BNBUSDT_1m.csv']) {
    const f = candleFile(name);
    it.skipIf(!f)(`round-trips ${name} through a file`, async () => {
      const res = await readCandlesCsv(f!, { interval: name.includes('_1m') ? '1m' : '1h' });
      expect(res.report.ok).toBe(true);
      const out = path.join(mkdtempSync(path.join(tmpdir(), 'tat-csv-')), name);
      await writeCandlesCsv(out, res.candles);
      expect(readFileSync(out, 'utf8')).toBe(readFileSync(f!, 'utf8'));
    });
  }
});

describe('candle CSV parsing', () => {
  it('maps columns by header name and ignores extra columns', () => {
    const text = 'close,timestamp,volume,open,low,high,extra\n10.5,3600000,7,10,9,11,x\n';
    const c = parseCandlesCsvRaw(text);
    expect(c.length).toBe(1);
    expect([c.tsMs[0], c.open[0], c.high[0], c.low[0], c.close[0], c.volume[0]]).toEqual([3600000, 10, 11, 9, 10.5, 7]);
    expect(Number.isNaN(c.turnover[0]!)).toBe(true);
  });

  it('handles CRLF line endings, a BOM and a missing final newline', () => {
    const text = '\uFEFFtimestamp,open,high,low,close,volume,turnover\r\n0,1,2,0.5,1.5,3,\r\n60000,1.5,2,1,1.2,4,5';
    const c = parseCandlesCsvRaw(text);
    expect(c.length).toBe(2);
    expect(c.turnover[1]).toBe(5);
    expect(c.close[1]).toBe(1.2);
  });

  it('names the missing header fields', () => {
    expect(() => parseCandlesCsvRaw('timestamp,open,high,close\n1,2,3,4\n')).toThrow(/lacks low, volume/);
    expect(() => parseCandlesCsvRaw('timestamp,open,high,close\n1,2,3,4\n')).toThrow(DataError);
  });

  it('reads an empty cell as missing, not zero, so validation catches it', () => {
    expect(() => parseCandlesCsv('timestamp,open,high,low,close,volume\n0,1,2,,1.5,3\n', {}, 'f.csv')).toThrow(/line 2 \(low\): low is not a number/);
  });

  it('counts rows one way: file lines, blank lines included, in parse and validation messages alike', () => {
    const text = 'timestamp,open,high,low,close,volume\n0,1,2,0.5,1.5,3\n\n3600000,1,2,0.5,1.5,3\n7200000,1,2,,1.5,3\n10800000,1,2\n';
    expect(() => parseCandlesCsv(text.replace('10800000,1,2\n', ''), {}, 'f.csv')).toThrow(/f\.csv: 1 issue\(s\) in 3 rows.*\n  line 5 \(low\)/s);
    expect(() => parseCandlesCsv(text, {}, 'f.csv')).toThrow(/f\.csv: line 6 has 3 fields/);
  });

  it('fails cleanly on a missing file', async () => {
    await expect(readCandlesCsv('/nonexistent/x.csv')).rejects.toThrow(/cannot read candle file \/nonexistent\/x.csv/);
  });
});

describe('formatDecimal', () => {
  it('never writes exponent notation', () => {
    expect(formatDecimal(0.1)).toBe('0.1');
    expect(formatDecimal(50000)).toBe('50000');
    expect(formatDecimal(1.5e-7)).toBe('0.00000015');
    expect(formatDecimal(-2.25e-8)).toBe('-0.0000000225');
    expect(formatDecimal(1.2e21)).toBe('1200000000000000000000');
    expect(formatDecimal(NaN)).toBe('');
    for (const x of [1.5e-7, 3.14159e-9, 123.456, 1e-7]) expect(Number(formatDecimal(x))).toBe(x);
  });
});
