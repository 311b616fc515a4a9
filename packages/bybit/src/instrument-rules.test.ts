import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSyntheticMarket, type OrderRequest } from '@task-agnostic/core';
import { BybitSimulator, SIM_API_KEY, SIM_API_SECRET, SIM_INSTRUMENTS } from './testing/index.js';
import { BybitClient } from './client.js';
import { BybitApiError } from './errors.js';
import { InstrumentCatalog, InstrumentInfoError, conformOrder, leverageFor, roundQtyDown, roundToTick, type InstrumentRules } from './instrument-rules.js';

const btc: InstrumentRules = { symbol: 'BTCUSDT', tickSize: 0.1, qtyStep: 0.001, minOrderQty: 0.001, maxOrderQty: 100, minNotional: 5, maxLeverage: 100 };
const doge: InstrumentRules = { symbol: 'DOGEUSDT', tickSize: 0.00001, qtyStep: 1, minOrderQty: 1, maxOrderQty: 1_000_000, minNotional: 5, maxLeverage: 75 };
const buy = (symbol: string, qty: number, extra: Partial<OrderRequest> = {}): OrderRequest => ({ symbol, side: 'buy', type: 'market', qty, clientOrderId: 'x', ...extra });

describe('rounding (hand-computed)', () => {
  it('qty rounds toward zero to the step, written exactly', () => {
    expect(roundQtyDown(0.12345, 0.001)).toBe(0.123);
    expect(roundQtyDown(0.3, 0.1)).toBe(0.3); // 0.3 / 0.1 = 2.9999999999999996 in binary
    expect(roundQtyDown(1234.9, 1)).toBe(1234);
    expect(roundQtyDown(-0.0199, 0.01)).toBe(-0.01);
    expect(roundQtyDown(0.0009, 0.001)).toBe(0);
  });
  it('prices round to the tick: nearest, down, up', () => {
    expect(roundToTick(43_210.06, 0.1)).toBe(43_210.1);
    expect(roundToTick(43_210.06, 0.1, 'down')).toBe(43_210);
    expect(roundToTick(43_210.01, 0.1, 'up')).toBe(43_210.1);
    expect(roundToTick(0.197084, 0.00001)).toBe(0.19708);
    expect(roundToTick(43_210.1, 0.1, 'up')).toBe(43_210.1); // already on the tick
  });
});

describe('conformOrder', () => {
  it('rounds qty and the protective levels toward the price', () => {
    const r = conformOrder(buy('BTCUSDT', 0.0126, { stopLossPrice: 41_999.97, takeProfitPrice: 44_100.09 }), btc, 43_000);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.order).toMatchObject({ qty: 0.012, stopLossPrice: 42_000, takeProfitPrice: 44_100 });
    // short: stop above rounds down, target below rounds up
    const s = conformOrder({ ...buy('BTCUSDT', 0.0126), side: 'sell', stopLossPrice: 44_000.04, takeProfitPrice: 41_999.91 }, btc, 43_000);
    expect(s.ok && s.order).toMatchObject({ stopLossPrice: 44_000, takeProfitPrice: 42_000 });
  });
  it('skips an order below the minimum notional after rounding, with the reason', () => {
    // 0.00019 BTC at 43k = 8.17 USDT before rounding, 0 after -> below min qty
    expect(conformOrder(buy('BTCUSDT', 0.00019), btc, 43_000)).toEqual({ ok: false, reason: expect.stringMatching(/below the minimum order qty 0.001/) });
    // 27.9 DOGE -> 27 at 0.18 = 4.86 USDT < 5 (27.9 x 0.18 = 5.02 before rounding)
    const r = conformOrder(buy('DOGEUSDT', 27.9), doge, 0.18);
    expect(r).toEqual({ ok: false, reason: expect.stringMatching(/27 x 0.18 = 4.8600 USDT after rounding is below the minimum notional 5 USDT/) });
    // the same size reduce-only (closing) is allowed
    expect(conformOrder(buy('DOGEUSDT', 27.9, { reduceOnly: true }), doge, 0.18)).toMatchObject({ ok: true, order: { qty: 27 } });
    expect(conformOrder(buy('DOGEUSDT', 28), doge, 0.18)).toMatchObject({ ok: true, order: { qty: 28 } }); // 5.04
  });
  it('caps qty at the maximum and leverage at the instrument maximum', () => {
    expect(conformOrder(buy('BTCUSDT', 250.0004), btc, 43_000)).toMatchObject({ ok: true, order: { qty: 100 } });
    expect(leverageFor(125, btc)).toBe(100);
    expect(leverageFor(3, doge)).toBe(3);
  });
});

describe('instrument rules against the simulator (5+ symbols)', () => {
  const symbols = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'BNBUSDT', 'DOGEUSDT', 'DOTUSDT', 'XRPUSDT'];
  const prices: Record<string, number> = { BTCUSDT: 104_000, ETHUSDT: 2_550, SOLUSDT: 158, BNBUSDT: 662, DOGEUSDT: 0.197, DOTUSDT: 4.1, XRPUSDT: 2.01 };
  let sim: BybitSimulator;
  let client: BybitClient;
  beforeAll(async () => {
    const feeds = symbols.map((s, k) => {
      const m = generateSyntheticMarket({ bars: 200, seed: 3 + k, interval: '1m', startMs: Date.UTC(2025, 5, 1), startPrice: prices[s]! });
      // quote on the instrument's tick, as the exchange does
      const t = SIM_INSTRUMENTS[s]!.tickSize;
      const r = (x: Float64Array | number[]): Float64Array => Float64Array.from(x as ArrayLike<number>, (v) => roundToTick(v, t));
      const c = { ...m.candles, open: r(m.candles.open), high: r(m.candles.high), low: r(m.candles.low), close: r(m.candles.close) };
      return { symbol: s, interval: '1m' as const, candles: c };
    });
    sim = await new BybitSimulator(feeds, { startMs: Date.UTC(2025, 5, 1) + 100 * 60_000, initialUsdt: 100_000 }).start();
    client = new BybitClient({ mode: 'custom', restUrl: sim.restUrl, wsPublicUrl: sim.wsPublicUrl, apiKey: SIM_API_KEY, apiSecret: SIM_API_SECRET, backoffBaseMs: 10 });
  });
  afterAll(async () => {
    client.close();
    await sim.close();
  });

  it('loads and caches the rules of every symbol (one request for all)', async () => {
    const before = sim.count('/v5/market/instruments-info');
    const cat = await new InstrumentCatalog().load(client, symbols);
    expect(sim.count('/v5/market/instruments-info') - before).toBe(1);
    await cat.load(client, symbols); // cached: no request
    expect(sim.count('/v5/market/instruments-info') - before).toBe(1);
    expect(cat.get('DOGEUSDT')).toEqual({ symbol: 'DOGEUSDT', tickSize: 0.00001, qtyStep: 1, minOrderQty: 1, maxOrderQty: 27_670_000, minNotional: 5, maxLeverage: 75 });
    expect(cat.get('ETHUSDT')).toMatchObject({ tickSize: 0.01, qtyStep: 0.01, minOrderQty: 0.01, minNotional: 5 }); // the recorded fixture's values
  });

  it('a conformed order of 200 USDT with stop and target is accepted for every symbol; the raw one is rejected', async () => {
    const cat = await new InstrumentCatalog().load(client, symbols);
    for (const s of symbols) {
      const rules = cat.get(s);
      const px = (await client.ticker(s)).lastPrice;
      const raw: OrderRequest = buy(s, (200 / px) * 1.0000037, { clientOrderId: `ok-${s}`, stopLossPrice: px * 0.98 + rules.tickSize / 3, takeProfitPrice: px * 1.03 + rules.tickSize / 3 });
      // sent as it is, the exchange refuses it (qty off the step or a level off the tick)
      await expect(client.placeOrder({ ...raw, clientOrderId: `raw-${s}` })).rejects.toBeInstanceOf(BybitApiError);
      const r = conformOrder(raw, rules, px);
      expect(r, s).toMatchObject({ ok: true });
      if (!r.ok) continue;
      const o = await client.placeOrder(r.order);
      expect(o.status, s).toBe('filled');
      expect(o.filledQty).toBe(r.order.qty);
    }
    // below the minimum notional after rounding: the simulator refuses what conformOrder skips
    const px = (await client.ticker('DOGEUSDT')).lastPrice;
    const small = buy('DOGEUSDT', 4.9 / px, { clientOrderId: 'small-doge' });
    expect(conformOrder(small, cat.get('DOGEUSDT'), px).ok).toBe(false);
    await expect(client.placeOrder({ ...small, qty: roundQtyDown(small.qty, 1) })).rejects.toMatchObject({ retCode: 110094 });
  });

  it('sets leverage within the instrument maximum and the margin mode', async () => {
    expect(await client.setLeverage('DOTUSDT', 3)).toBe(true);
    expect(await client.setLeverage('DOTUSDT', 3)).toBe(false); // 110043: already
    await expect(client.setLeverage('DOTUSDT', 60)).rejects.toBeInstanceOf(BybitApiError); // max 50
    expect(sim.account.leverageOf('DOTUSDT')).toBe(3);
    await client.setMarginMode('isolated');
    expect(sim.account.marginMode).toBe('ISOLATED_MARGIN');
  });

  it('an unknown symbol is refused with its name; a failed load is an InstrumentInfoError', async () => {
    await expect(new InstrumentCatalog().load(client, ['BTCUSDT', 'FOOUSDT'])).rejects.toThrow(/unknown symbol on the exchange \(linear USDT perpetuals\): FOOUSDT/);
    sim.faults.rest({ kind: 'http5xx', status: 503 }, { path: '/v5/market/instruments-info', count: 10 });
    const flaky = new BybitClient({ mode: 'custom', restUrl: sim.restUrl, wsPublicUrl: sim.wsPublicUrl, maxRetries: 1, backoffBaseMs: 1 });
    await expect(new InstrumentCatalog().load(flaky, ['BTCUSDT'])).rejects.toBeInstanceOf(InstrumentInfoError);
    sim.faults.clear();
    expect(() => new InstrumentCatalog().get('BTCUSDT')).toThrow(InstrumentInfoError);
  });
});
