import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateSyntheticMarket } from '@task-agnostic/core';
import { BybitSimulator, SIM_API_KEY, SIM_API_SECRET } from './testing/index.js';
import { BybitClient } from './client.js';
import { BybitIpBanError, BybitProtocolError, BybitRateLimitError } from './errors.js';

const m = generateSyntheticMarket({ bars: 400, seed: 3, interval: '1h', startMs: Date.UTC(2024, 0, 1) });

describe('REST faults end in the documented behaviour', () => {
  let sim: BybitSimulator;
  let client: BybitClient;
  const make = (extra: Record<string, unknown> = {}): BybitClient =>
    new BybitClient({ mode: 'custom', restUrl: sim.restUrl, wsPublicUrl: sim.wsPublicUrl, apiKey: SIM_API_KEY, apiSecret: SIM_API_SECRET, backoffBaseMs: 20, backoffMaxMs: 200, ...extra });
  beforeEach(async () => {
    sim = await new BybitSimulator([{ symbol: 'BTCUSDT', interval: '1h', candles: m.candles }], { orderLimitPerSecond: 3 }).start();
    client = make();
  });
  afterEach(async () => {
    client.close();
    await sim.close();
  });

  it('retCode 10006: waits until X-Bapi-Limit-Reset-Timestamp, then retries and succeeds', async () => {
    sim.faults.rest({ kind: 'retCode10006', resetInMs: 400 }, { path: '/v5/market/tickers' });
    const t0 = Date.now();
    const t = await client.ticker('BTCUSDT');
    const waited = Date.now() - t0;
    expect(t.lastPrice).toBeCloseTo(m.candles.close[399]!, 1); // rounded to the 0.01 tick
    expect(waited).toBeGreaterThanOrEqual(380);
    const log = sim.requests.filter((r) => r.path === '/v5/market/tickers');
    expect(log.map((r) => r.retCode)).toEqual([10006, 0]);
    // The retry was sent after the reset time, not before.
    expect(log[1]!.wallMs - log[0]!.wallMs).toBeGreaterThanOrEqual(380);
  });

  it('retCode 10006 that never clears ends in BybitRateLimitError carrying retCode/retMsg', async () => {
    const c = make({ maxRetries: 2 });
    sim.faults.rest({ kind: 'retCode10006', resetInMs: 30 }, { path: '/v5/market/tickers', count: 100 });
    const err = await c.ticker('BTCUSDT').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BybitRateLimitError);
    expect(err).toMatchObject({ retCode: 10006, retMsg: 'Too many visits!' });
    expect(sim.count('/v5/market/tickers')).toBe(3);
    c.close();
  });

  it('follows X-Bapi-Limit-Status: with 3 orders/s allowed, 7 orders in a row never earn a 10006', async () => {
    const t0 = Date.now();
    for (let i = 0; i < 7; i++) await client.placeOrder({ symbol: 'BTCUSDT', side: 'buy', type: 'market', qty: 0.001, clientOrderId: `burst-${i}` });
    expect(sim.requests.filter((r) => r.retCode === 10006)).toHaveLength(0);
    expect(client.requestStats.rateLimitWaits).toBeGreaterThanOrEqual(2);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(sim.account.orders).toHaveLength(7);
  });

  it('HTTP 429: retries with backoff, then succeeds; without retries it is a BybitRateLimitError', async () => {
    sim.faults.rest({ kind: 'http429' }, { path: '/v5/market/orderbook', count: 2 });
    const b = await client.orderBook('BTCUSDT', 5);
    expect(b.bids).toHaveLength(5);
    expect(sim.requests.filter((r) => r.path === '/v5/market/orderbook').map((r) => r.status)).toEqual([429, 429, 200]);
    const c = make({ maxRetries: 0 });
    sim.faults.rest({ kind: 'http429' }, { path: '/v5/market/orderbook' });
    await expect(c.orderBook('BTCUSDT')).rejects.toMatchObject({ httpStatus: 429, retCode: 429 });
    c.close();
  });

  it('HTTP 403: stops at once (no retry) and refuses further requests locally during the ban', async () => {
    const c = make({ ipBanMs: 600_000 });
    sim.faults.rest({ kind: 'http403', banMs: 50 }, { path: '/v5/market/time' });
    const t0 = Date.now();
    const err = await c.serverTime().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BybitIpBanError);
    expect((err as BybitIpBanError).bannedUntilMs).toBeGreaterThanOrEqual(t0 + 600_000);
    expect(sim.count('/v5/market/time')).toBe(1);
    // The server's ban already ended (50 ms), but the client keeps its 10-minute ban: nothing is sent.
    await new Promise((r) => setTimeout(r, 80));
    await expect(c.ticker('BTCUSDT')).rejects.toBeInstanceOf(BybitIpBanError);
    expect(sim.count('/v5/market/tickers')).toBe(0);
    c.close();
  });

  it('malformed body: a GET is retried; if it stays malformed it ends in BybitProtocolError', async () => {
    sim.faults.rest({ kind: 'malformed' }, { path: '/v5/market/time' });
    expect(await client.serverTime()).toBe(sim.nowMs);
    expect(sim.count('/v5/market/time')).toBe(2);
    const c = make({ maxRetries: 1 });
    sim.faults.rest({ kind: 'malformed' }, { path: '/v5/market/time', count: 5 });
    await expect(c.serverTime()).rejects.toBeInstanceOf(BybitProtocolError);
    c.close();
  });

  it('a malformed answer to an order placement is not blindly re-sent (not idempotent)', async () => {
    sim.faults.rest({ kind: 'malformed' }, { path: '/v5/order/create' });
    await expect(client.placeOrder({ symbol: 'BTCUSDT', side: 'buy', type: 'market', qty: 0.001, clientOrderId: 'mal-1' })).rejects.toBeInstanceOf(BybitProtocolError);
    expect(sim.count('/v5/order/create')).toBe(1);
  });

  it('HTTP 5xx: a GET is retried; an order placement is looked up by orderLinkId, then re-placed once', async () => {
    sim.faults.rest({ kind: 'http5xx', status: 502 }, { path: '/v5/market/tickers' });
    await client.ticker('BTCUSDT');
    expect(sim.requests.filter((r) => r.path === '/v5/market/tickers').map((r) => r.status)).toEqual([502, 200]);
    sim.faults.rest({ kind: 'http5xx', status: 503 }, { path: '/v5/order/create' });
    const out = await client.placeOrderDetailed({ symbol: 'BTCUSDT', side: 'buy', type: 'market', qty: 0.001, clientOrderId: 'gw-1' });
    expect(out.attempts).toBe(2);
    expect(sim.account.orders.filter((o) => o.orderLinkId === 'gw-1')).toHaveLength(1);
    // Between the two placements: the lookup (realtime, then history) found nothing.
    const paths = sim.requests.map((r) => r.path).filter((p) => p.startsWith('/v5/order/'));
    expect(paths.slice(0, 4)).toEqual(['/v5/order/create', '/v5/order/realtime', '/v5/order/history', '/v5/order/create']);
  });

  it('a timed fault hits every matching request for its duration, then stops', async () => {
    const c = make({ maxRetries: 0 });
    sim.faults.rest({ kind: 'http5xx', status: 503 }, { path: '/v5/market/time', forMs: 300 });
    for (let i = 0; i < 3; i++) await expect(c.serverTime()).rejects.toMatchObject({ message: expect.stringMatching(/HTTP 503/) });
    await new Promise((r) => setTimeout(r, 320));
    expect(await c.serverTime()).toBe(sim.nowMs);
    expect(sim.requests.filter((r) => r.path === '/v5/market/time').map((r) => r.status)).toEqual([503, 503, 503, 200]);
    c.close();
  });

  it('count Infinity lasts until the test withdraws the fault; a held request is processed only when let go', async () => {
    const c = make({ maxRetries: 0 });
    const end = sim.faults.rest({ kind: 'http5xx', status: 503 }, { path: '/v5/market/time', count: Infinity });
    for (let i = 0; i < 4; i++) await expect(c.serverTime()).rejects.toMatchObject({ message: expect.stringMatching(/HTTP 503/) });
    end();
    expect(await c.serverTime()).toBe(sim.nowMs);
    expect(sim.requests.filter((r) => r.path === '/v5/market/time').map((r) => r.status)).toEqual([503, 503, 503, 503, 200]);
    // hold: the order request waits (body read, not processed) until the promise settles
    let letGo = (): void => {};
    sim.faults.rest({ kind: 'hold', until: new Promise<void>((r) => (letGo = r)) }, { path: '/v5/order/create' });
    const placed = c.placeOrder({ symbol: 'BTCUSDT', side: 'buy', type: 'market', qty: 0.001, clientOrderId: 'held-1' });
    await new Promise((r) => setTimeout(r, 200));
    expect(sim.account.byLinkId.has('held-1')).toBe(false);
    letGo();
    expect((await placed).clientOrderId).toBe('held-1');
    expect(sim.account.byLinkId.get('held-1')?.orderStatus).toBe('Filled');
    c.close();
  });

  it('params errors come back as BybitApiError with Bybit retCode 10001', async () => {
    await expect(client.ticker('NOPEUSDT')).rejects.toMatchObject({ retCode: 10001 });
  });
});
