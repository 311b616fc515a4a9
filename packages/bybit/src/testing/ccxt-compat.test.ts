import { describe, expect, it, afterAll, beforeAll } from 'vitest';
import { generateSyntheticMarket } from '@task-agnostic/core';
import { BybitSimulator, SIM_API_KEY, SIM_API_SECRET } from './index.js';

// The simulator must answer what ccxt's own bybit implementation asks, not only our client.
describe('ccxt.bybit (unified API) against the simulator', () => {
  const m = generateSyntheticMarket({ bars: 3000, seed: 21, interval: '1h', startMs: Date.UTC(2024, 0, 1) });
  let sim: BybitSimulator;
  beforeAll(async () => {
    sim = await new BybitSimulator([
      { symbol: 'BTCUSDT', interval: '1h', candles: m.candles },
      { symbol: 'ETHUSDT', interval: '1h', candles: generateSyntheticMarket({ bars: 3000, seed: 22, interval: '1h', startMs: Date.UTC(2024, 0, 1), startPrice: 2000 }).candles },
    ]).start();
  });
  afterAll(async () => sim?.close());

  const make = async (keys: boolean) => {
    const { bybit } = await import('ccxt');
    return new bybit({
      ...(keys ? { apiKey: SIM_API_KEY, secret: SIM_API_SECRET } : {}),
      urls: { api: { public: sim.restUrl, private: sim.restUrl, spot: sim.restUrl, futures: sim.restUrl, v2: sim.restUrl } },
      options: { fetchMarkets: { types: ['linear'] }, defaultType: 'swap' },
    });
  };

  it('loadMarkets, fetchOHLCV, fetchTicker, fetchOrderBook, fetchFundingRateHistory', async () => {
    const ex = await make(false);
    const markets = await ex.loadMarkets();
    expect(Object.keys(markets).sort()).toEqual(['BTC/USDT:USDT', 'ETH/USDT:USDT']);
    expect(markets['BTC/USDT:USDT']!.precision.amount).toBe(0.001);
    const since = m.candles.tsMs[100]!;
    const ohlcv = await ex.fetchOHLCV('BTC/USDT:USDT', '1h', since, 50);
    expect(ohlcv.map((r) => r[0])).toEqual(Array.from(m.candles.tsMs.subarray(100, 150)));
    expect(ohlcv[0]!.slice(1, 6)).toEqual([m.candles.open[100], m.candles.high[100], m.candles.low[100], m.candles.close[100], m.candles.volume[100]]);
    const t = await ex.fetchTicker('BTC/USDT:USDT');
    expect(t.last).toBeCloseTo(m.candles.close[2999]!, 1);
    const ob = await ex.fetchOrderBook('BTC/USDT:USDT', 25);
    expect(ob.bids).toHaveLength(25);
    expect(ob.bids[0]![0]!).toBeLessThan(ob.asks[0]![0]!);
    const fr = await ex.fetchFundingRateHistory('BTC/USDT:USDT', m.candles.tsMs[2000], 10);
    expect(fr.length).toBeGreaterThan(0);
    for (const r of fr) expect(r.timestamp! % (8 * 3_600_000)).toBe(0);
  });

  it('signed: loadMarkets with keys (asset/coin/query-info) succeeds', async () => {
    const ex = await make(true);
    await ex.loadMarkets();
    expect(sim.count('/v5/asset/coin/query-info')).toBeGreaterThanOrEqual(1);
    expect(sim.requests.filter((r) => r.path === '/v5/asset/coin/query-info').every((r) => r.retCode === 0)).toBe(true);
  });
});
