import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { candleFile, dataDir } from '@task-agnostic/test-utils';
import { formatCandlesCsv, generateSyntheticMarket } from '@task-agnostic/core';
import { loadData, parseCandleFileName } from './data-source.js';

describe('trainer data loading', () => {
  it('parses candle file names', () => {
    expect(parseCandleFileName('bybit_BTCUSDT_1h.csv')).toEqual({ exchange: 'bybit', symbol: 'BTCUSDT', interval: '1h' });
    expect(parseCandleFileName('ETHUSDT_5m.csv')).toEqual({ symbol: 'ETHUSDT', interval: '5m' });
    expect(parseCandleFileName('notes.txt')).toBeNull();
  });

  it('generates one independent synthetic series per symbol, deterministically', async () => {
    const a = await loadData({ synthetic: true, symbols: ['AAA', 'BBB'], bars: 500, seed: 1 });
    const b = await loadData({ synthetic: true, symbols: ['AAA', 'BBB'], bars: 500, seed: 1 });
    expect(a.map((d) => d.symbol)).toEqual(['AAA', 'BBB']);
    expect(a[0]!.candles.close).toEqual(b[0]!.candles.close);
    expect(a[0]!.candles.close[10]).not.toBe(a[1]!.candles.close[10]);
  });

  it('reads a folder filtered by symbols and interval, and clips to a time range', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tat-data-'));
    const m = generateSyntheticMarket({ bars: 100, seed: 2 });
    writeFileSync(path.join(dir, 'x_AAAUSDT_1h.csv'), formatCandlesCsv(m.candles));
    writeFileSync(path.join(dir, 'x_BBBUSDT_1h.csv'), formatCandlesCsv(m.candles));
    writeFileSync(path.join(dir, 'x_AAAUSDT_5m.csv'), formatCandlesCsv(m.candles));
    const got = await loadData({ path: dir, symbols: ['AAAUSDT'], interval: '1h', startMs: m.candles.tsMs[10]!, endMs: m.candles.tsMs[20]! });
    expect(got.length).toBe(1);
    expect(got[0]!.candles.length).toBe(10);
    await expect(loadData({ path: dir, symbols: ['ZZZUSDT'] })).rejects.toThrow(/no 1h CSV for ZZZUSDT/);
    await expect(loadData({ path: path.join(dir, 'missing') })).rejects.toThrow(/does not exist/);
    writeFileSync(path.join(dir, 'y_AAAUSDT_1h.csv'), formatCandlesCsv(m.candles));
    await expect(loadData({ path: dir, symbols: ['AAAUSDT'] })).rejects.toThrow(/several 1h files for AAAUSDT .*--exchange/);
    expect((await loadData({ path: dir, symbols: ['AAAUSDT'], exchange: 'y' }))[0]!.source).toContain('y_AAAUSDT_1h.csv');
  });

  const eth = candleFile('bybit_ETHUSDT_1h.csv');
  it.skipIf(!eth)('reads real candles from the shared data folder', async () => {
    const got = await loadData({ path: path.join(dataDir!, 'candles'), symbols: ['ETHUSDT'], interval: '1h', exchange: 'bybit', endMs: Date.UTC(2022, 0, 1) });
    expect(got[0]!.symbol).toBe('ETHUSDT');
    expect(got[0]!.candles.length).toBeGreaterThan(6000);
    expect(got[0]!.candles.tsMs[got[0]!.candles.length - 1]).toBeLessThan(Date.UTC(2022, 0, 1));
  });

  describe('data that lies about itself is refused (issue 24 item 4, issue 11)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tat-lies-'));
    const h1 = generateSyntheticMarket({ bars: 400, seed: 5 }).candles;
    const m1 = generateSyntheticMarket({ bars: 400, seed: 5, interval: '1m' }).candles;
    const write = (name: string, text: string) => {
      const f = path.join(dir, name);
      writeFileSync(f, text);
      return f;
    };

    it('a 1m file named _1h', async () => {
      const f = write('bybit_BTCUSDT_1h.csv', formatCandlesCsv(m1));
      await expect(loadData({ path: f, interval: '1h' })).rejects.toThrow(/bybit_BTCUSDT_1h\.csv is read as 1h but its candles are 1m apart/);
    });

    it('timestamps in seconds, with the hint', async () => {
      const f = write('SECUSDT_1h.csv', formatCandlesCsv({ ...h1, tsMs: Float64Array.from(h1.tsMs, (t) => t / 1000) }));
      await expect(loadData({ path: f, interval: '1h' })).rejects.toThrow(/timestamps are in seconds, not milliseconds.*multiply it by 1000/);
    });

    it('an ETH file under --symbols BTCUSDT, and one file for several symbols', async () => {
      const f = write('bybit_ETHUSDT_1h.csv', formatCandlesCsv(h1));
      await expect(loadData({ path: f, symbols: ['BTCUSDT'], interval: '1h' })).rejects.toThrow(/bybit_ETHUSDT_1h\.csv is named for ETHUSDT but the run asks for BTCUSDT \(--symbols/);
      await expect(loadData({ path: f, symbols: ['ETHUSDT', 'BTCUSDT'], interval: '1h' })).rejects.toThrow(/one file, so one symbol/);
      expect((await loadData({ path: f, symbols: ['ETHUSDT'], interval: '1h' }))[0]!.symbol).toBe('ETHUSDT');
      // a name without a symbol takes --symbols
      const plain = write('candles.csv', formatCandlesCsv(h1));
      expect((await loadData({ path: plain, symbols: ['BTCUSDT'], interval: '1h' }))[0]!.symbol).toBe('BTCUSDT');
      // in a list of files, a symbol no file is named for
      await expect(loadData({ path: `${f}`.concat(',', f), symbols: ['BTCUSDT'], interval: '1h' })).rejects.toThrow(/--symbols names BTCUSDT but no file of --data is named for it/);
    });

    it('a file named for another interval than the run reads', async () => {
      const f = write('ETHUSDT_1m.csv', formatCandlesCsv(m1));
      await expect(loadData({ path: f, interval: '1h' })).rejects.toThrow(/ETHUSDT_1m\.csv is named for 1m candles but the run reads 1h .*pass --interval 1m/);
      expect((await loadData({ path: f, interval: '1m' }))[0]!.candles.length).toBe(400);
    });

    it('a header-only file says "no candles"', async () => {
      const f = write('EMPTYUSDT_1h.csv', 'timestamp,open,high,low,close,volume,turnover\n');
      await expect(loadData({ path: f, interval: '1h' })).rejects.toThrow(/EMPTYUSDT_1h\.csv: no candles \(the file has only a header\)/);
    });
  });
});
