import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { generateSyntheticMarket, parseCandlesCsvRaw, sliceColumns, type CandleColumns, type ClosedCandle } from '@task-agnostic/core';
import { candleFile } from '@task-agnostic/test-utils';
import { BybitSimulator } from './testing/index.js';
import { BybitClient } from './client.js';
import type { OrderBookSnapshot, Ticker } from './wire.js';
import type { PublicTrade } from './streams.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('timed out waiting for the condition');
    await sleep(5);
  }
}

async function sourceCandles(): Promise<CandleColumns> {
  const f = candleFile('bybit_BTCUSDT_1h.csv');
  if (f) return sliceColumns(parseCandlesCsvRaw(await readFile(f, 'utf8')), 20_000, 22_000);
  return generateSyntheticMarket({ bars: 2000, seed: 5, interval: '1h' }).candles;
}

function expectExactlyOnce(got: ClosedCandle[], src: CandleColumns, from: number, to: number): void {
  expect(got.map((c) => c.candle.tsMs)).toEqual(Array.from(src.tsMs.subarray(from, to)));
  got.forEach((c, k) => {
    const i = from + k;
    expect([c.candle.open, c.candle.high, c.candle.low, c.candle.close, c.candle.volume]).toEqual([src.open[i], src.high[i], src.low[i], src.close[i], src.volume[i]]);
  });
}

describe('WebSocket streams against the simulator', () => {
  let sim: BybitSimulator | undefined;
  let client: BybitClient | undefined;
  afterEach(async () => {
    client?.close();
    await sim?.close();
  });
  const start = async (src: CandleColumns, bar: number, ws: Record<string, number> = {}): Promise<[BybitSimulator, BybitClient]> => {
    sim = await new BybitSimulator([{ symbol: 'BTCUSDT', interval: '1h', candles: src }], { startMs: src.tsMs[bar]! }).start();
    client = new BybitClient({ mode: 'custom', restUrl: sim.restUrl, wsPublicUrl: sim.wsPublicUrl, backoffBaseMs: 20, ws: { reconnectBaseMs: 20, reconnectMaxMs: 150, ...ws } });
    return [sim, client];
  };

  it('WebSocket dropped every 50 bars of an accelerated replay: every closed candle exactly once, in order', async () => {
    const src = await sourceCandles();
    const [s, c] = await start(src, 1000);
    const got: ClosedCandle[] = [];
    const { stream, unsubscribe } = await c.streams.klines(['BTCUSDT'], '1h', (x) => got.push(x));
    await until(() => c.streams.socket.isOpen);
    for (let k = 1; k <= 600; k++) {
      s.advance(1);
      if (k % 50 === 0) s.dropWebSockets();
      await sleep(k % 50 < 5 ? 0 : 2); // a few bars close while the client is away
    }
    await until(() => got.length >= 600);
    await sleep(100);
    expectExactlyOnce(got, src, 1000, 1600);
    const st = c.streams.socket.stats;
    expect(st.reconnects).toBeGreaterThanOrEqual(10);
    expect(s.hub.stats.connections).toBeGreaterThanOrEqual(13);
    // Both paths carried candles: the live pushes and the REST backfill after each reconnect.
    expect(stream.stats.fromWs).toBeGreaterThan(300);
    expect(stream.stats.fromRest).toBeGreaterThan(0);
    expect(stream.stats.fromWs + stream.stats.fromRest).toBe(600);
    await unsubscribe();
  });

  it('two symbols with drops: each symbol exactly once, in order; the order book recovers after a drop', async () => {
    const a = generateSyntheticMarket({ bars: 500, seed: 12, interval: '1h', startMs: Date.UTC(2024, 0, 1) }).candles;
    const b = generateSyntheticMarket({ bars: 500, seed: 13, interval: '1h', startMs: Date.UTC(2024, 0, 1), startPrice: 2000 }).candles;
    sim = await new BybitSimulator([{ symbol: 'BTCUSDT', interval: '1h', candles: a }, { symbol: 'ETHUSDT', interval: '1h', candles: b }], { startMs: a.tsMs[100]! }).start();
    client = new BybitClient({ mode: 'custom', restUrl: sim.restUrl, wsPublicUrl: sim.wsPublicUrl, backoffBaseMs: 20, ws: { reconnectBaseMs: 20, reconnectMaxMs: 100 } });
    const got: Record<string, ClosedCandle[]> = { BTCUSDT: [], ETHUSDT: [] };
    await client.streamCandles(['BTCUSDT', 'ETHUSDT'], '1h', (x) => got[x.symbol]!.push(x));
    let book: OrderBookSnapshot | undefined;
    client.streams.orderBook('ETHUSDT', 50, (x) => (book = x));
    await until(() => client!.streams.socket.isOpen && book !== undefined);
    for (let k = 1; k <= 200; k++) {
      sim.advance(1);
      if (k % 40 === 0) sim.dropWebSockets();
      await sleep(2);
    }
    await until(() => got.BTCUSDT!.length >= 200 && got.ETHUSDT!.length >= 200);
    await sleep(100);
    expectExactlyOnce(got.BTCUSDT!, a, 100, 300);
    expectExactlyOnce(got.ETHUSDT!, b, 100, 300);
    const rest = await client.orderBook('ETHUSDT', 50);
    await until(() => book!.updateId > 0 && JSON.stringify(book!.bids) === JSON.stringify(rest.bids));
    expect(book!.asks).toEqual(rest.asks);
  });

  it('4h candles streamed from a 1h feed, with drops: exactly once, equal to the REST aggregation', async () => {
    const src = generateSyntheticMarket({ bars: 1200, seed: 14, interval: '1h', startMs: Date.UTC(2024, 0, 1) }).candles;
    const [s, c] = await start(src, 400);
    const got: ClosedCandle[] = [];
    const { stream } = await c.streams.klines(['BTCUSDT'], '4h', (x) => got.push(x));
    await until(() => c.streams.socket.isOpen);
    for (let k = 1; k <= 400; k++) {
      s.advance(1);
      if (k % 50 === 0) {
        // Wait for the reconnect (so most closes arrive as pushes, whatever the machine's load);
        // bars closed while the socket was down come from the REST backfill.
        const connects = c.streams.socket.stats.connects;
        s.dropWebSockets();
        await until(() => c.streams.socket.stats.connects > connects && c.streams.socket.isOpen);
        await sleep(20);
      }
      await sleep(1);
    }
    await until(() => got.length >= 100);
    await sleep(100);
    const rest = await c.fetchCandles('BTCUSDT', '4h', src.tsMs[400]!, s.nowMs);
    expect(rest.length).toBe(100);
    expect(got.map((x) => x.candle.tsMs)).toEqual(Array.from(rest.tsMs));
    expect(got.map((x) => x.candle.close)).toEqual(Array.from(rest.close));
    expect(got.map((x) => x.candle.high)).toEqual(Array.from(rest.high));
    expect(got.every((x) => x.interval === '4h')).toBe(true);
    expect(stream.stats.fromWs).toBeGreaterThan(50); // the aggregated pushes, not only REST backfill
  });

  it('duplicated, swapped and malformed kline pushes still give each candle exactly once, in order', async () => {
    const src = generateSyntheticMarket({ bars: 400, seed: 9, interval: '1h' }).candles;
    const [s, c] = await start(src, 100);
    const got: ClosedCandle[] = [];
    const { stream } = await c.streams.klines(['BTCUSDT'], '1h', (x) => got.push(x));
    await until(() => c.streams.socket.isOpen);
    await sleep(20);
    for (let k = 1; k <= 100; k++) {
      if (k === 10) s.faults.ws({ kind: 'duplicateKline' }, 3);
      if (k === 30) s.faults.ws({ kind: 'outOfOrderKline' }, 2);
      if (k === 60) s.faults.ws({ kind: 'malformed' }, 4);
      s.advance(1);
      await sleep(3);
    }
    await until(() => got.length >= 100);
    await sleep(100);
    expectExactlyOnce(got, src, 100, 200);
    expect(c.streams.socket.stats.malformed).toBe(4);
    // One consumer per topic and client: a second subscription is refused, not silently swapped.
    await expect(c.streamCandles(['BTCUSDT'], '1h', () => undefined)).rejects.toThrow(/already subscribed/);
    expect(s.faults.applied.ws).toBe(3 + 2 + 4);
    // 3 duplicates + 2 swapped pushes that arrived after their REST backfill.
    expect(stream.stats.duplicatesDropped).toBeGreaterThanOrEqual(5);
    expect(stream.stats.fromRest).toBeGreaterThanOrEqual(2);
  });

  it('starts from a past time with fromMs: backfills over REST, then continues live', async () => {
    const src = generateSyntheticMarket({ bars: 300, seed: 2, interval: '1h' }).candles;
    const [s, c] = await start(src, 200);
    const got: ClosedCandle[] = [];
    await c.streamCandles(['BTCUSDT'], '1h', (x) => got.push(x), { fromMs: src.tsMs[150]! });
    await until(() => got.length >= 50);
    s.advance(5);
    await until(() => got.length >= 55);
    expectExactlyOnce(got, src, 150, 205);
  });

  it('pings every pingIntervalMs and the server answers pong', async () => {
    const src = generateSyntheticMarket({ bars: 50, seed: 1, interval: '1h' }).candles;
    const [s, c] = await start(src, 20, { pingIntervalMs: 40 });
    c.streams.trades('BTCUSDT', () => undefined);
    await until(() => c.streams.socket.stats.pongs >= 3, 5000);
    expect(s.hub.stats.pings).toBeGreaterThanOrEqual(3);
  });

  it('order book: snapshot then deltas equal the server book; an update-id gap triggers a resync', async () => {
    const src = generateSyntheticMarket({ bars: 200, seed: 4, interval: '1h' }).candles;
    const [s, c] = await start(src, 50);
    let book: OrderBookSnapshot | undefined;
    let updates = 0;
    c.streams.orderBook('BTCUSDT', 50, (b) => {
      book = b;
      updates++;
    });
    await until(() => book !== undefined);
    const check = async (): Promise<void> => {
      const rest = await c.orderBook('BTCUSDT', 50);
      expect(book!.bids).toEqual(rest.bids);
      expect(book!.asks).toEqual(rest.asks);
    };
    await check();
    for (let k = 0; k < 5; k++) {
      const n = updates;
      s.advance(1);
      await until(() => updates > n);
      await check();
    }
    s.faults.ws({ kind: 'skipOrderbookUpdate' });
    const n = updates;
    s.advance(1);
    await until(() => c.streams.stats.orderbookResyncs === 1 && updates > n);
    await check();
    s.advance(1);
    const n2 = updates;
    await until(() => updates > n2);
    await check();
    expect(c.streams.stats.orderbookGaps).toBe(1);
  });

  it('tickers (snapshot + merged deltas) and public trades follow the replay', async () => {
    const src = generateSyntheticMarket({ bars: 200, seed: 6, interval: '1h' }).candles;
    const [s, c] = await start(src, 50);
    let ticker: Ticker | undefined;
    const trades: PublicTrade[] = [];
    c.streams.ticker('BTCUSDT', (t) => (ticker = t));
    c.streams.trades('BTCUSDT', (t) => trades.push(...t));
    await until(() => ticker !== undefined);
    s.advance(3);
    await until(() => trades.length >= 6);
    await sleep(30);
    const rest = await c.ticker('BTCUSDT');
    expect(ticker).toEqual(rest);
    expect(trades[trades.length - 1]!.price).toBeCloseTo(src.close[52]!, 1);
  });
});
