import { mkdtemp, readFile, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSyntheticMarket, readCandlesCsvSync, sliceColumns, lowerBound, parseCandlesCsvRaw, type CandleColumns } from '@task-agnostic/core';
import { candleFile } from '@task-agnostic/test-utils';
import { BybitSimulator } from './testing/index.js';
import { BybitClient } from './client.js';

const HOUR = 3_600_000;
const file = candleFile('bybit_BTCUSDT_1h.csv');

function expectSameRows(got: CandleColumns, want: CandleColumns): void {
  expect(got.length).toBe(want.length);
  for (const k of ['tsMs', 'open', 'high', 'low', 'close', 'volume'] as const) {
    expect(Array.from(got[k]), k).toEqual(Array.from(want[k]));
  }
  for (let i = 0; i < want.length; i++) {
    const a = got.turnover[i]!;
    const b = want.turnover[i]!;
    if (!(Number.isNaN(a) && Number.isNaN(b)) && a !== b) throw new Error(`turnover differs at row ${i}: ${a} vs ${b}`);
  }
}

describe.skipIf(!file)('fetchCandles against the simulator fed with real BTCUSDT 1h', () => {
  let sim: BybitSimulator;
  let client: BybitClient;
  let source: CandleColumns;
  beforeAll(async () => {
    source = parseCandlesCsvRaw(await readFile(file!, 'utf8'));
    sim = await new BybitSimulator([{ symbol: 'BTCUSDT', interval: '1h', candles: source }]).start();
    client = new BybitClient({ mode: 'custom', restUrl: sim.restUrl, wsPublicUrl: sim.wsPublicUrl });
  });
  afterAll(async () => {
    client?.close();
    await sim?.close();
  });

  it('two years of 1h candles with paging equal exactly the source rows', async () => {
    const end = source.tsMs[source.length - 1]! + HOUR;
    const start = end - 2 * 365 * 24 * HOUR;
    const pages: number[] = [];
    const got = await client.fetchCandles('BTCUSDT', '1h', start, end, (p) => pages.push(p.candles.length));
    const want = sliceColumns(source, lowerBound(source, start), source.length);
    expect(want.length).toBeGreaterThan(17_000);
    expectSameRows(got, want);
    // 1000 per call: ceil(17520 / 1000) = 18 kline requests, none larger than 1000.
    expect(pages.length).toBe(18);
    expect(Math.max(...pages)).toBeLessThanOrEqual(1000);
    expect(sim.count('/v5/market/kline')).toBe(18);
  });
});

describe('klines paging, the open bar and resumable download (synthetic market)', () => {
  const m = generateSyntheticMarket({ bars: 3000, seed: 7, interval: '1h', startMs: Date.UTC(2024, 0, 1) });
  let sim: BybitSimulator;
  let client: BybitClient;
  let dir: string;
  beforeAll(async () => {
    // Clock at bar 2500 + 30 min: bars 0..2499 closed, bar 2500 open.
    sim = await new BybitSimulator([{ symbol: 'SYNUSDT', interval: '1h', candles: m.candles }], { startMs: m.candles.tsMs[2500]! + 30 * 60_000 }).start();
    client = new BybitClient({ mode: 'custom', restUrl: sim.restUrl, wsPublicUrl: sim.wsPublicUrl });
    dir = await mkdtemp(path.join(tmpdir(), 'bybit-dl-'));
  });
  afterAll(async () => {
    client?.close();
    await sim?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('drops the still-open bar and returns [start, end) oldest first', async () => {
    const got = await client.fetchCandles('SYNUSDT', '1h', m.candles.tsMs[0]!, m.candles.tsMs[2999]!);
    expectSameRows(got, sliceColumns(m.candles, 0, 2500));
    const mid = await client.fetchCandles('SYNUSDT', '1h', m.candles.tsMs[10]! + 1, m.candles.tsMs[20]!);
    expect(Array.from(mid.tsMs)).toEqual(Array.from(m.candles.tsMs.subarray(11, 20)));
  });

  it('4h and 1d klines from the 1h feed equal an independent aggregation; the open bucket shows no future', async () => {
    const c = m.candles;
    for (const [interval, ms] of [['4h', 4 * HOUR], ['1d', 24 * HOUR]] as const) {
      // Independent aggregation: group closed 1h bars (0..2499) by UTC bucket.
      const buckets = new Map<number, number[]>();
      for (let i = 0; i < 2500; i++) {
        const b = Math.floor(c.tsMs[i]! / ms) * ms;
        if (!buckets.has(b)) buckets.set(b, []);
        buckets.get(b)!.push(i);
      }
      const closedBuckets = [...buckets.entries()].filter(([b]) => b + ms <= sim.nowMs && b >= c.tsMs[0]!);
      const got = await client.fetchCandles('SYNUSDT', interval, c.tsMs[0]!, sim.nowMs + ms);
      expect(Array.from(got.tsMs)).toEqual(closedBuckets.map(([b]) => b));
      closedBuckets.forEach(([, idx], k) => {
        expect(got.open[k]).toBe(c.open[idx[0]!]);
        expect(got.close[k]).toBe(c.close[idx[idx.length - 1]!]);
        expect(got.high[k]).toBe(Math.max(...idx.map((i) => c.high[i]!)));
        expect(got.low[k]).toBe(Math.min(...idx.map((i) => c.low[i]!)));
        expect(got.volume[k]).toBeCloseTo(idx.reduce((s, i) => s + c.volume[i]!, 0), 9);
      });
    }
    // The open 4h bucket holds only the closed 1h bars of it (bar 2500 is open, 2501.. are future).
    const r = (await (await fetch(`${sim.restUrl}/v5/market/kline?category=linear&symbol=SYNUSDT&interval=240&limit=1`)).json()) as { result: { list: string[][] } };
    const row = r.result.list[0]!;
    const b = Math.floor(sim.nowMs / (4 * HOUR)) * 4 * HOUR;
    const inside: number[] = [];
    for (let i = 0; i < 2500; i++) if (c.tsMs[i]! >= b) inside.push(i);
    expect(Number(row[0])).toBe(b);
    if (inside.length) expect(Number(row[2])).toBe(Math.max(...inside.map((i) => c.high[i]!)));
    else expect(Number(row[2])).toBe(c.open[2500]);
  });

  it('bad ranges and intervals fail with a ConfigError; a progress bar reports the download', async () => {
    await expect(client.fetchCandles('SYNUSDT', '1h', 10, 5)).rejects.toMatchObject({ field: 'endMs' });
    await expect(client.fetchCandles('SYNUSDT', '1h', NaN, 5)).rejects.toMatchObject({ field: 'startMs' });
    await expect(client.fetchCandles('SYNUSDT', '7m' as '1h', 0, 5)).rejects.toMatchObject({ field: 'interval' });
    let out = '';
    const stream = Object.assign(new (await import('node:stream')).Writable({ write(chunk, _e, cb) { out += String(chunk); cb(); } }), { isTTY: false });
    const f = path.join(dir, 'progress.csv');
    const prev = process.env.TAT_NO_PROGRESS;
    delete process.env.TAT_NO_PROGRESS;
    try {
      const r = await client.downloadCandles({ symbol: 'SYNUSDT', interval: '1h', startMs: m.candles.tsMs[0]!, endMs: m.candles.tsMs[2000]!, file: f, progressStream: stream });
      expect(r.appended).toBe(2000);
    } finally {
      if (prev !== undefined) process.env.TAT_NO_PROGRESS = prev;
    }
    expect(out).toMatch(/SYNUSDT 1h \[#+\] 100% 2000\/2000 bars/);
  });

  it('downloads into a CSV and resumes after an interruption without refetching', async () => {
    const f = path.join(dir, 'SYNUSDT_1h.csv');
    const start = m.candles.tsMs[0]!;
    const end = m.candles.tsMs[2500]!;
    const first = await client.downloadCandles({ symbol: 'SYNUSDT', interval: '1h', startMs: start, endMs: m.candles.tsMs[1200]!, file: f, progress: false });
    expect(first.appended).toBe(1200);
    // Simulate a crash mid-append: a torn last line.
    await writeFile(f, (await readFile(f, 'utf8')) + '1704067200000,1.5,2');
    const before = sim.count('/v5/market/kline');
    const second = await client.downloadCandles({ symbol: 'SYNUSDT', interval: '1h', startMs: start, endMs: end, file: f, progress: false });
    expect(second.resumedFromMs).toBe(m.candles.tsMs[1200]);
    expect(second.appended).toBe(1300);
    expect(sim.count('/v5/market/kline') - before).toBe(2);
    const back = readCandlesCsvSync(f, { interval: '1h' });
    expectSameRows(back.candles, sliceColumns(m.candles, 0, 2500));
  });
});
