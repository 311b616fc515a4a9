import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSyntheticMarket } from '@task-agnostic/core';
import { bybitFixture, fixturesDir } from '@task-agnostic/test-utils';
import { BybitSimulator, SIM_API_KEY, SIM_API_SECRET } from './testing/index.js';
import { signedHeaders } from './signing.js';
import { parseInstrument, parseOrder, parsePosition, parseTicker } from './wire.js';
import { parseBookMessage, LocalOrderBook } from './orderbook.js';
import { parseWsKline } from './candle-stream.js';

type J = Record<string, unknown>;
const load = (name: string): J => JSON.parse(readFileSync(bybitFixture(name)!, 'utf8')) as J;
const result = (j: J): J => j.result as J;
const first = (j: J): J => (result(j).list as J[])[0]!;

describe.skipIf(!fixturesDir)('wire parsers on recorded Bybit messages', () => {
  it('instrument, ticker, order, position', () => {
    expect(parseInstrument(first(load('rest_market_instruments_info.json')))).toMatchObject({
      symbol: 'BTCUSDT', tickSize: 0.1, qtyStep: 0.001, minOrderQty: 0.001, maxOrderQty: 1190, minNotional: 5, maxLeverage: 100, fundingIntervalMin: 480,
    });
    expect(parseTicker(first(load('rest_market_tickers.json')))).toMatchObject({ symbol: 'BTCUSD', lastPrice: 120635.5, bid1Price: 103401, fundingRate: 0.0001, nextFundingTimeMs: 1760371200000 });
    const orders = result(load('nautilus_trader/http_get_orders_realtime.json')).list as J[];
    expect(parseOrder(orders[0]!)).toMatchObject({ id: 'open-order-1', clientOrderId: 'client-open-1', side: 'buy', type: 'limit', price: 3930.41, qty: 0.01, status: 'new', filledQty: 0 });
    expect(parseOrder({ ...orders[0]!, cumExecFee: '0.0261' }).fee).toBe(0.0261);
    expect(parseOrder({ ...orders[0]!, cumExecFee: '' }).fee).toBeUndefined();
    expect(() => parseOrder({ ...orders[0]!, cumExecFee: 'x' })).toThrow(/cumExecFee/);
    const pos = result(load('nautilus_trader/http_get_positions.json')).list as J[];
    expect(parsePosition(pos[0]!)).toMatchObject({ symbol: 'BTCUSDT', side: 'long', qty: 0.5, entryPrice: 50000, leverage: 10, stopLossPrice: 48000, takeProfitPrice: 55000, liquidationPrice: 45000 });
    expect(parsePosition(pos[1]!)).toMatchObject({ side: 'short', qty: 5 });
    expect(parsePosition(pos[2]!)).toBeUndefined(); // size 0: flat
  });

  it('WebSocket kline, orderbook snapshot + delta', () => {
    const k = load('ws_kline.json');
    expect(parseWsKline((k.data as J[])[0]!)).toEqual({ candle: { tsMs: 1672324800000, open: 16649.5, high: 16677, low: 16608, close: 16677, volume: 2.081, turnover: 34666.4005 }, confirm: false });
    const snap = load('ws_orderbook_snapshot.json');
    const delta = load('ws_orderbook_delta.json');
    const book = new LocalOrderBook('BTCUSDT');
    book.apply(parseBookMessage(snap.type, snap.data, snap.ts));
    expect(book.ready).toBe(true);
    // The doc's delta is not the successor of the doc's snapshot: a gap.
    expect(() => book.apply(parseBookMessage(delta.type, delta.data, delta.ts))).toThrow(/gap/);
  });
});

describe('local order book arithmetic (hand-made messages)', () => {
  it('size 0 removes, others upsert; u must be continuous; a snapshot resets', () => {
    const b = new LocalOrderBook('X');
    b.apply({ type: 'snapshot', symbol: 'X', bids: [{ price: 100, size: 1 }, { price: 99, size: 2 }], asks: [{ price: 101, size: 3 }], updateId: 5, tsMs: 0 });
    b.apply({ type: 'delta', symbol: 'X', bids: [{ price: 100, size: 0 }, { price: 98, size: 4 }], asks: [{ price: 101, size: 1.5 }, { price: 102, size: 1 }], updateId: 6, tsMs: 1 });
    expect(b.snapshot()).toMatchObject({ bids: [{ price: 99, size: 2 }, { price: 98, size: 4 }], asks: [{ price: 101, size: 1.5 }, { price: 102, size: 1 }], updateId: 6 });
    expect(() => b.apply({ type: 'delta', symbol: 'X', bids: [], asks: [], updateId: 8, tsMs: 2 })).toThrow(/expected 7, got 8/);
    b.apply({ type: 'snapshot', symbol: 'X', bids: [{ price: 50, size: 1 }], asks: [], updateId: 1, tsMs: 3 });
    expect(b.snapshot().bids).toEqual([{ price: 50, size: 1 }]);
  });
});

describe.skipIf(!fixturesDir)('simulator responses have the recorded shapes', () => {
  let sim: BybitSimulator;
  beforeAll(async () => {
    const candles = generateSyntheticMarket({ bars: 200, seed: 1, interval: '1h' }).candles;
    sim = await new BybitSimulator([{ symbol: 'BTCUSDT', interval: '1h', candles }]).start();
  });
  afterAll(async () => sim?.close());

  const get = async (path: string, signed = false): Promise<J> => {
    const q = path.includes('?') ? path.slice(path.indexOf('?') + 1) : '';
    const headers = signed ? signedHeaders(SIM_API_KEY, SIM_API_SECRET, Date.now(), 5000, q) : {};
    return (await (await fetch(sim.restUrl + path, { headers })).json()) as J;
  };
  const keysOf = (o: unknown): string[] => Object.keys(o as J).sort();
  const expectKeys = (got: unknown, want: unknown): void => {
    const missing = keysOf(want).filter((k) => !keysOf(got).includes(k));
    expect(missing).toEqual([]);
  };

  it.each([
    ['/v5/market/instruments-info?category=linear', 'rest_market_instruments_info.json'],
    ['/v5/market/tickers?category=linear&symbol=BTCUSDT', 'rest_market_tickers.json'],
    ['/v5/market/funding/history?category=linear&symbol=BTCUSDT', 'rest_market_funding_history.json'],
    ['/v5/market/open-interest?category=linear&symbol=BTCUSDT&intervalTime=1h', 'rest_market_open_interest_linear.json'],
  ])('%s has the keys of %s', async (path, fixture) => {
    const got = await get(path);
    const want = load(fixture);
    expectKeys(got, want);
    expectKeys(result(got), result(want));
    expectKeys(first(got), first(want));
    expect(got.retCode).toBe(0);
    // Bybit sends numbers as strings: each field has the recorded JSON type.
    const w = first(want);
    for (const [k, v] of Object.entries(first(got))) if (w[k] !== null && w[k] !== undefined && v !== null) expect(`${k}:${typeof v}`).toBe(`${k}:${typeof w[k]}`);
  });

  it('kline rows, orderbook, time, position list and wallet balance have the recorded shapes', async () => {
    const k = await get('/v5/market/kline?category=linear&symbol=BTCUSDT&interval=60&limit=3');
    const kw = load('rest_market_kline_linear.json');
    expect((result(k).list as string[][])[0]!.length).toBe((result(kw).list as string[][])[0]!.length);
    expect((result(k).list as string[][])[0]!.every((x) => typeof x === 'string')).toBe(true);
    expectKeys(result(await get('/v5/market/orderbook?category=linear&symbol=BTCUSDT')), result(load('rest_market_orderbook.json')));
    expectKeys(result(await get('/v5/market/time')), result(load('rest_market_time.json')));
    expectKeys(first(await get('/v5/position/list?category=linear&symbol=BTCUSDT', true)), (result(load('nautilus_trader/http_get_positions.json')).list as J[])[0]);
    const wallet = first(await get('/v5/account/wallet-balance?accountType=UNIFIED', true));
    const wantWallet = first(load('nautilus_trader/http_get_wallet_balance.json'));
    expectKeys(wallet, wantWallet);
  });
});
