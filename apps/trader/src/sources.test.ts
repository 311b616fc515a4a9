import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Candle } from '@task-agnostic/core';
import { parseSpeed, replayCsv } from './sources.js';

const csv = (rows: string[]) => {
  const f = path.join(mkdtempSync(path.join(tmpdir(), 'tat-src-')), 'c.csv');
  writeFileSync(f, ['timestamp,open,high,low,close,volume,turnover', ...rows].join('\n') + '\n');
  return f;
};
const row = (i: number) => `${i * 3_600_000},${100 + i},${101 + i},${99 + i},${100.5 + i},5,`;

describe('replayCsv', () => {
  it('replays in order after the journal\'s last candle, up to a limit', async () => {
    const f = csv(Array.from({ length: 10 }, (_, i) => row(i)));
    const got: Candle[] = [];
    const n = await replayCsv({ file: f, interval: '1h', speed: 'max', afterMs: 3 * 3_600_000, limit: 4 }, async (c) => void got.push(c));
    expect(n).toBe(4);
    expect(got.map((c) => c.tsMs / 3_600_000)).toEqual([4, 5, 6, 7]);
    expect(got[0]).toEqual({ tsMs: 4 * 3_600_000, open: 104, high: 105, low: 103, close: 104.5, volume: 5 });
  });

  it('refuses a file whose candles are not --interval apart, or whose timestamps are seconds (issue 24 item 4)', async () => {
    const f = csv(Array.from({ length: 10 }, (_, i) => row(i)));
    await expect(replayCsv({ file: f, interval: '1m', speed: 'max' }, async () => {})).rejects.toThrow(/c\.csv is read as 1m but its candles are 1h apart/);
    const t0 = Date.UTC(2024, 0, 1) / 1000;
    const secs = csv(Array.from({ length: 10 }, (_, i) => `${t0 + i * 3600},100,101,99,100.5,5,`));
    await expect(replayCsv({ file: secs, interval: '1h', speed: 'max' }, async () => {})).rejects.toThrow(/timestamps are in seconds/);
  });

  it('paces at --speed (3600x: one 1h bar per second) and stops on abort', async () => {
    const f = csv(Array.from({ length: 5 }, (_, i) => row(i)));
    const ac = new AbortController();
    const got: number[] = [];
    const t0 = Date.now();
    await replayCsv({ file: f, interval: '1h', speed: 36_000, signal: ac.signal }, async (c) => {
      got.push(c.tsMs);
      if (got.length === 3) ac.abort();
    });
    expect(got).toHaveLength(3);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
  });

  it('parses speeds and rejects bad ones', () => {
    expect(parseSpeed('60x')).toBe(60);
    expect(parseSpeed('2.5')).toBe(2.5);
    expect(parseSpeed('max')).toBe('max');
    expect(() => parseSpeed('0x')).toThrow(/--speed/);
    expect(() => parseSpeed('-3')).toThrow(/--speed/);
  });
});
