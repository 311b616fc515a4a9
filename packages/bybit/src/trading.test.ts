import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateSyntheticMarket } from '@task-agnostic/core';
import { BybitSimulator, SIM_API_KEY, SIM_API_SECRET } from './testing/index.js';
import { BybitClient } from './client.js';
import { BybitApiError } from './errors.js';

const m = generateSyntheticMarket({ bars: 600, seed: 11, interval: '1h', startMs: Date.UTC(2024, 0, 1), startPrice: 40_000 });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('trading against the simulator (signed requests)', () => {
  let sim: BybitSimulator;
  let client: BybitClient;
  const make = (extra: Record<string, unknown> = {}): BybitClient =>
    new BybitClient({ mode: 'custom', restUrl: sim.restUrl, wsPublicUrl: sim.wsPublicUrl, apiKey: SIM_API_KEY, apiSecret: SIM_API_SECRET, backoffBaseMs: 20, ...extra });
  beforeEach(async () => {
    sim = await new BybitSimulator([{ symbol: 'BTCUSDT', interval: '1h', candles: m.candles }], { startMs: m.candles.tsMs[300]! }).start();
    client = make();
  });
  afterEach(async () => {
    client.close();
    await sim.close();
  });

  it('market order opens a position at the last price; balance pays the taker fee', async () => {
    const last = m.candles.close[299]!;
    const o = await client.placeOrder({ symbol: 'BTCUSDT', side: 'buy', type: 'market', qty: 0.01, clientOrderId: 'mkt-1' });
    expect(o).toMatchObject({ status: 'filled', filledQty: 0.01, clientOrderId: 'mkt-1', side: 'buy', type: 'market' });
    expect(o.avgFillPrice).toBeCloseTo(last, 6);
    const [p] = await client.positions('BTCUSDT');
    expect(p).toMatchObject({ symbol: 'BTCUSDT', side: 'long', qty: 0.01 });
    expect(p!.entryPrice).toBeCloseTo(last, 6);
    const b = await client.balance();
    // Equity = 10000 - fee (unrealised PnL is 0 at the entry price).
    expect(b.equity).toBeCloseTo(10_000 - 0.01 * last * 0.00055, 6);
    expect(b.available).toBeCloseTo(b.equity - (0.01 * last) / 10, 6);
    expect(b.currency).toBe('USDT');
  });

  it('orderHistory lists closed orders newest first, including a stop-loss the exchange executed', async () => {
    const last = m.candles.close[299]!;
    await client.placeOrder({ symbol: 'BTCUSDT', side: 'buy', type: 'market', qty: 0.01, clientOrderId: 'hist-1', stopLossPrice: Math.round(last * 0.9999 * 10) / 10, takeProfitPrice: Math.round(last * 1.5) });
    // Close bars until the stop executes (0.01% under the entry: the first bar whose low goes below it).
    for (let i = 0; i < 250 && (await client.positions('BTCUSDT')).length; i++) sim.advance(1);
    expect(await client.positions('BTCUSDT')).toEqual([]);
    const h = await client.orderHistory('BTCUSDT');
    expect(h.map((o) => o.clientOrderId)).toEqual([expect.stringMatching(/^tpsl-/), 'hist-1']);
    expect(h[0]).toMatchObject({ side: 'sell', status: 'filled', filledQty: 0.01, reduceOnly: true, avgFillPrice: Math.round(last * 0.9999 * 10) / 10 });
  });

  it('limit order rests, is listed, fills when the price crosses; cancel removes another', async () => {
    const last = m.candles.close[299]!;
    // Bid 0.5 % below the last price; the first later bar whose low reaches it fills it.
    const price = Math.round(last * 0.995 * 10) / 10;
    let hitBar = -1;
    for (let i = 300; i < 600 && hitBar < 0; i++) if (m.candles.low[i]! <= price) hitBar = i;
    expect(hitBar).toBeGreaterThan(300);
    const o = await client.placeOrder({ symbol: 'BTCUSDT', side: 'buy', type: 'limit', qty: 0.002, price, clientOrderId: 'lim-1' });
    expect(o.status).toBe('new');
    const far = await client.placeOrder({ symbol: 'BTCUSDT', side: 'buy', type: 'limit', qty: 0.002, price: Math.round(last * 0.5), clientOrderId: 'lim-far' });
    expect((await client.openOrders('BTCUSDT')).map((x) => x.clientOrderId).sort()).toEqual(['lim-1', 'lim-far']);
    await client.cancelOrder('BTCUSDT', far.id);
    expect((await client.findOrder('BTCUSDT', 'lim-far'))?.status).toBe('cancelled');
    sim.advance(hitBar - 300);
    expect((await client.findOrder('BTCUSDT', 'lim-1'))?.status).toBe('new');
    sim.advance(1);
    const filled = await client.findOrder('BTCUSDT', 'lim-1');
    expect(filled).toMatchObject({ status: 'filled', filledQty: 0.002, avgFillPrice: price });
    expect(await client.openOrders('BTCUSDT')).toEqual([]);
    expect(await client.findOrder('BTCUSDT', 'never-sent')).toBeUndefined();
  });

  it('stop-loss attached to the entry closes the position when a bar touches it; reduce-only needs a position', async () => {
    const last = m.candles.close[299]!;
    await expect(client.placeOrder({ symbol: 'BTCUSDT', side: 'sell', type: 'market', qty: 0.01, reduceOnly: true, clientOrderId: 'ro-0' })).rejects.toMatchObject({ retCode: 110017 });
    let sl = Infinity;
    for (let i = 300; i < 400; i++) sl = Math.min(sl, m.candles.low[i]!);
    sl = Math.round((sl + 5) * 10) / 10;
    await client.placeOrder({ symbol: 'BTCUSDT', side: 'buy', type: 'market', qty: 0.01, stopLossPrice: sl, takeProfitPrice: Math.round(last * 10), clientOrderId: 'entry-1' });
    expect((await client.positions('BTCUSDT'))[0]).toMatchObject({ stopLossPrice: sl });
    sim.advance(100);
    expect(await client.positions('BTCUSDT')).toEqual([]);
    const exit = sim.account.fills[sim.account.fills.length - 1]!;
    expect(exit).toMatchObject({ side: 'Sell', price: sl, qty: 0.01 });
  });

  it('bad order requests fail with a ConfigError naming the field, before anything is sent', async () => {
    const before = sim.requests.length;
    await expect(client.placeOrder({ symbol: 'BTCUSDT', side: 'buy', type: 'market', qty: 0.01, clientOrderId: 'has space' })).rejects.toMatchObject({ field: 'clientOrderId' });
    await expect(client.placeOrder({ symbol: 'BTCUSDT', side: 'buy', type: 'market', qty: 0.01, clientOrderId: 'x'.repeat(37) })).rejects.toMatchObject({ field: 'clientOrderId' });
    await expect(client.placeOrder({ symbol: 'BTCUSDT', side: 'buy', type: 'limit', qty: 0.01, clientOrderId: 'nolimit' })).rejects.toMatchObject({ field: 'price' });
    await expect(client.placeOrder({ symbol: 'BTCUSDT', side: 'buy', type: 'market', qty: NaN, clientOrderId: 'nanqty' })).rejects.toMatchObject({ field: 'qty' });
    await expect(client.placeOrder({ symbol: 'BTCUSDT', side: 'buy', type: 'market', qty: 1, stopLossPrice: -5, clientOrderId: 'badsl' })).rejects.toMatchObject({ field: 'stopLossPrice' });
    const noKeys = new BybitClient({ mode: 'custom', restUrl: sim.restUrl, wsPublicUrl: sim.wsPublicUrl });
    await expect(noKeys.balance()).rejects.toMatchObject({ field: 'apiKey' });
    expect(() => noKeys.privateStream({})).toThrow(/apiKey/);
    expect(sim.requests.length).toBe(before);
  });

  it('a wrong secret is rejected with retCode 10004 and the error never shows the keys', async () => {
    const bad = make({ apiSecret: 'wrongSecret_000000000000' });
    const err = await bad.balance().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BybitApiError);
    expect((err as BybitApiError).retCode).toBe(10004);
    const text = String((err as Error).message) + JSON.stringify(err) + String((err as Error).stack);
    expect(text).not.toContain(SIM_API_KEY);
    expect(text).not.toContain('wrongSecret_000000000000');
    const unknownKey = make({ apiKey: 'someOtherKey1234' });
    await expect(unknownKey.positions()).rejects.toMatchObject({ retCode: 10003 });
    bad.close();
    unknownKey.close();
  });

  it('a cancel whose response is lost is retried; the "does not exist" answer is checked, not trusted', async () => {
    const c = make({ timeoutMs: 300 });
    const o = await c.placeOrder({ symbol: 'BTCUSDT', side: 'buy', type: 'limit', qty: 0.01, price: 1000, clientOrderId: 'cx-1' });
    sim.faults.rest({ kind: 'delayAfter', ms: 600 }, { path: '/v5/order/cancel' });
    await c.cancelOrder('BTCUSDT', o.id);
    expect(sim.requests.filter((r) => r.path === '/v5/order/cancel').map((r) => r.retCode)).toEqual([0, 110001]);
    expect((await c.findOrder('BTCUSDT', 'cx-1'))?.status).toBe('cancelled');
    // A filled order cannot be cancelled: the error stands.
    const f = await c.placeOrder({ symbol: 'BTCUSDT', side: 'buy', type: 'market', qty: 0.001, clientOrderId: 'cx-2' });
    await expect(c.cancelOrder('BTCUSDT', f.id)).rejects.toMatchObject({ retCode: 110001 });
    c.close();
  });

  it('placement that times out (response lost) is found by orderLinkId: exactly one order', async () => {
    const c = make({ timeoutMs: 300 });
    sim.faults.rest({ kind: 'delayAfter', ms: 800 }, { path: '/v5/order/create' });
    const out = await c.placeOrderDetailed({ symbol: 'BTCUSDT', side: 'buy', type: 'market', qty: 0.01, clientOrderId: 'to-after' });
    expect(out).toMatchObject({ attempts: 1, recovered: true, order: { status: 'filled', clientOrderId: 'to-after' } });
    expect(sim.account.orders.filter((o) => o.orderLinkId === 'to-after')).toHaveLength(1);
    expect(sim.count('/v5/order/create')).toBe(1);
    c.close();
  });

  it('placement that times out before the server processed it is re-placed; the late original is a rejected duplicate', async () => {
    const c = make({ timeoutMs: 300 });
    sim.faults.rest({ kind: 'delayBefore', ms: 900 }, { path: '/v5/order/create' });
    const out = await c.placeOrderDetailed({ symbol: 'BTCUSDT', side: 'buy', type: 'market', qty: 0.01, clientOrderId: 'to-before' });
    expect(out.attempts).toBe(2);
    expect(out.order.status).toBe('filled');
    await sleep(1000); // let the held original reach the matching engine
    expect(sim.account.orders.filter((o) => o.orderLinkId === 'to-before')).toHaveLength(1);
    const creates = sim.requests.filter((r) => r.path === '/v5/order/create');
    expect(creates.map((r) => r.retCode).sort()).toEqual([0, 110072]);
    expect((await c.positions('BTCUSDT'))[0]?.qty).toBe(0.01);
    c.close();
  });
});
