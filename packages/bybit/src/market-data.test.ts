import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSyntheticMarket } from '@task-agnostic/core';
import { BybitSimulator } from './testing/index.js';
import { BybitClient } from './client.js';

const H = 3_600_000;
const start = Date.UTC(2024, 0, 1);
const feed = (symbol: string, seed: number, price: number) => ({
  symbol, interval: '1h' as const, candles: generateSyntheticMarket({ bars: 1500, seed, interval: '1h', startMs: start, startPrice: price }).candles,
});

describe('REST market data against the simulator', () => {
  let sim: BybitSimulator;
  let client: BybitClient;
  const feeds = [feed('BTCUSDT', 1, 60_000), feed('ETHUSDT', 2, 3_000), feed('SOLUSDT', 3, 150)];
  beforeAll(async () => {
    sim = await new BybitSimulator(feeds).start();
    client = new BybitClient({ mode: 'custom', restUrl: sim.restUrl, wsPublicUrl: sim.wsPublicUrl });
  });
  afterAll(async () => {
    client.close();
    await sim.close();
  });

  it('instruments follow nextPageCursor and carry tick size, lot size and minimum notional', async () => {
    const all = await client.instruments(undefined, 1);
    expect(sim.count('/v5/market/instruments-info')).toBe(3);
    expect(all.map((i) => i.symbol)).toEqual(['BTCUSDT', 'ETHUSDT', 'SOLUSDT']);
    const [btc] = await client.instruments('BTCUSDT');
    expect(btc).toMatchObject({ symbol: 'BTCUSDT', baseCoin: 'BTC', quoteCoin: 'USDT', qtyStep: 0.001, minOrderQty: 0.001, minNotional: 5, status: 'Trading' });
    expect(btc!.tickSize).toBeGreaterThan(0);
  });

  it('server time is the simulated clock', async () => {
    expect(await client.serverTime()).toBe(start + 1500 * H);
  });

  it('ticker and order book agree with the last close', async () => {
    const t = await client.ticker('ETHUSDT');
    const close = feeds[1]!.candles.close[1499]!;
    expect(t.lastPrice).toBeCloseTo(close, 2);
    expect(t.bid1Price).toBeLessThanOrEqual(close);
    expect(t.ask1Price).toBeGreaterThan(t.bid1Price);
    const b = await client.orderBook('ETHUSDT', 50);
    expect(b.bids).toHaveLength(50);
    expect(b.asks).toHaveLength(50);
    for (let i = 1; i < 50; i++) {
      expect(b.bids[i]!.price).toBeLessThan(b.bids[i - 1]!.price);
      expect(b.asks[i]!.price).toBeGreaterThan(b.asks[i - 1]!.price);
    }
    expect(b.bids[0]!.price).toBe(t.bid1Price);
  });

  it('funding history pages back 200 at a time and returns every 8 h settlement in range, oldest first', async () => {
    const from = start + 2 * H;
    const to = start + 1499 * H;
    const rows = await client.fundingHistory('BTCUSDT', from, to);
    // Settlements at multiples of 8 h within [from, to]: by hand.
    const want: number[] = [];
    for (let t = Math.ceil(from / (8 * H)) * 8 * H; t <= to; t += 8 * H) want.push(t);
    expect(rows.map((r) => r.tsMs)).toEqual(want);
    expect(want.length).toBeGreaterThan(180);
    for (const r of rows) expect(r.rate).toBe(sim.market.fundingRateAt(sim.market.feed('BTCUSDT')!, r.tsMs));
  });

  it('open interest follows the cursor across pages', async () => {
    const from = start;
    const to = start + 999 * H;
    const rows = await client.openInterest('BTCUSDT', '1h', from, to);
    expect(rows).toHaveLength(1000);
    expect(sim.count('/v5/market/open-interest')).toBe(5);
    rows.forEach((r, i) => expect(r.tsMs).toBe(from + i * H));
    expect(rows.every((r) => r.openInterest > 0)).toBe(true);
  });
});
