import { describe, expect, it } from 'vitest';
import { holdDecision, toColumns, DataError, ConfigError } from '@task-agnostic/core';
import type { Candle, TradingDecision } from '@task-agnostic/core';
import { SimulatedAccount } from './account.js';
import { liquidationPrice } from './fill-model.js';
import { runBacktest } from './engine.js';

const H = 3_600_000;
const bars = (rows: [number, number, number, number][], stepMs = H, t0 = 0): Candle[] =>
  rows.map(([open, high, low, close], i) => ({ tsMs: t0 + i * stepMs, open, high, low, close, volume: 1 }));
const dec = (side: 'long' | 'short' | 'flat', sizeFraction: number, stopLossPct = 0, takeProfitPct = 0): TradingDecision => ({
  tsMs: 0,
  action: side === 'long' ? 'buy' : 'sell',
  side,
  confidence: 1,
  agreement: 1,
  sizeFraction,
  stopLossPct,
  takeProfitPct,
  reasoning: 'test',
});
const script = (m: Record<number, TradingDecision>) => (t: number) => m[t] ?? null;

describe('SimulatedAccount: hand-computed trade sequences', () => {
  it('long round trip: next-open fill, 0.1% taker fee, 0.05% slippage, no churn under the rebalance threshold', () => {
    const c = toColumns(bars([[100, 100, 100, 100], [100, 110, 100, 110], [110, 120, 110, 120], [120, 120, 120, 120]]));
    const r = runBacktest(c, script({ 0: dec('long', 0.5), 1: dec('long', 0.5), 2: dec('flat', 0) }), { initialEquity: 10_000 });
    // bar 1 open 100: qty = 0.5 x 10000 / 100 = 50 at 100 x 1.0005 = 100.05, fee 50 x 100.05 x 0.001
    const entryFee = 50 * 100.05 * 0.001; // 5.0025
    expect(r.fills[0]).toMatchObject({ side: 'buy', qty: 50, reason: 'signal', liquidity: 'taker', tsMs: H });
    expect(r.fills[0]!.price).toBeCloseTo(100.05, 12);
    expect(r.equity[0]).toBe(10_000);
    expect(r.equity[1]).toBeCloseTo(10_000 - entryFee + 50 * (110 - 100.05), 9); // 10492.4975
    // bar 2: target 0.5 x 10492.4975 / 110 = 47.69 -> change 4.6% < 10%: no trade
    expect(r.fills).toHaveLength(2);
    // bar 3 open 120: sell 50 at 120 x 0.9995 = 119.94, fee 5.997
    const exitFee = 50 * 119.94 * 0.001;
    const expected = 10_000 - entryFee - exitFee + 50 * (119.94 - 100.05); // 10983.5005
    expect(r.equity[3]).toBeCloseTo(expected, 9);
    expect(r.trades).toHaveLength(1);
    expect(r.trades[0]!.pnl).toBeCloseTo(expected - 10_000, 9);
    expect(r.trades[0]!.fees).toBeCloseTo(entryFee + exitFee, 12);
    expect(r.metrics.feesPaid).toBeCloseTo(entryFee + exitFee, 12);
  });

  it('short with funding: receives positive funding, pays negative funding, both in the trade', () => {
    const c = toColumns(bars([[100, 100, 100, 100], [100, 101, 99, 100], [100, 100, 95, 96], [96, 97, 90, 92], [92, 92, 92, 92]]));
    const funding = { tsMs: [2 * H, 3 * H], rate: [0.0001, -0.0002] };
    const r = runBacktest(c, script({ 0: dec('short', 1), 3: dec('flat', 0) }), { leverage: 2 }, { funding });
    const entryPx = 100 * (1 - 0.0005); // 99.95, qty 100
    const entryFee = 100 * entryPx * 0.001;
    const f1 = -100 * 100 * 0.0001; // paid -1 (received 1) at bar 2's open 100
    const f2 = -100 * 96 * -0.0002; // paid +1.92 at bar 3's open 96
    const exitPx = 92 * 1.0005;
    const exitFee = 100 * exitPx * 0.001;
    const expected = 10_000 - entryFee - f1 - f2 - exitFee + 100 * (entryPx - exitPx);
    expect(r.fundingPayments.map((p) => p.payment)).toEqual([f1, f2]);
    expect(r.equity[2]).toBeCloseTo(10_000 - entryFee - f1 + 100 * (entryPx - 96), 9);
    expect(r.equity[4]).toBeCloseTo(expected, 9);
    expect(r.trades[0]!.funding).toBeCloseTo(f1 + f2, 12);
    expect(r.trades[0]!.pnl).toBeCloseTo(expected - 10_000, 9);
    expect(r.metrics.fundingPaid).toBeCloseTo(0.92, 12);
  });

  const slTpBars = bars([[100, 100, 100, 100], [100, 100.5, 99.5, 100], [100, 104, 97, 100], [100, 100, 100, 100]]);
  const noSlip = { slippage: { model: 'fixed' as const, rate: 0 } };
  const slTpStrategy = script({ 0: dec('long', 0.5, 0.02, 0.03) });

  it('stop and take-profit both inside one bar: the stop is assumed first (worst case) and the result says so', () => {
    const r = runBacktest(toColumns(slTpBars), slTpStrategy, noSlip);
    // entry 50 @ 100, fee 5; bar 2 touches 98 (stop) and 103 (target): stop first, fee 50 x 98 x 0.001
    const expected = 10_000 - 5 - 50 * 98 * 0.001 + 50 * (98 - 100); // 9890.1
    expect(r.trades[0]).toMatchObject({ exitReason: 'stop_loss', exitPrice: 98 });
    expect(r.equity[2]).toBeCloseTo(expected, 9);
    expect(r.intrabar).toEqual({ rule: 'worst_case', ambiguousBars: 1, resolvedByLowerTimeframe: 0, resolvedWorstCase: 1, ambiguousLowerTimeframeCandles: 0 });
  });

  it('lower-timeframe candles replay the ambiguous bar: target first here, stop first there', () => {
    const q = 15 * 60_000;
    const tpFirst = toColumns(bars([[100, 103.5, 99.8, 103.2], [103.2, 104, 97, 97.5], [97.5, 99, 97.5, 99], [99, 100, 99, 100]], q, 2 * H));
    const r = runBacktest(toColumns(slTpBars), slTpStrategy, noSlip, { lowerTimeframe: tpFirst });
    expect(r.trades[0]).toMatchObject({ exitReason: 'take_profit', exitPrice: 103 });
    expect(r.equity[2]).toBeCloseTo(10_000 - 5 - 50 * 103 * 0.001 + 50 * 3, 9); // 10139.85
    expect(r.intrabar).toMatchObject({ rule: 'lower_timeframe', ambiguousBars: 1, resolvedByLowerTimeframe: 1, resolvedWorstCase: 0 });
    const slFirst = toColumns(bars([[100, 100.2, 97, 97.5], [97.5, 104, 97.5, 103], [103, 103, 100, 100], [100, 100, 100, 100]], q, 2 * H));
    const r2 = runBacktest(toColumns(slTpBars), slTpStrategy, noSlip, { lowerTimeframe: slFirst });
    expect(r2.trades[0]).toMatchObject({ exitReason: 'stop_loss', exitPrice: 98 });
    expect(r2.equity[2]).toBeCloseTo(9890.1, 9);
    // a lower-timeframe candle that itself touches both: adverse first inside it, and counted
    const bothInSub = toColumns(bars([[100, 100.5, 99.5, 100], [100, 104, 97, 100], [100, 100, 100, 100], [100, 100, 100, 100]], q, 2 * H));
    const r3 = runBacktest(toColumns(slTpBars), slTpStrategy, noSlip, { lowerTimeframe: bothInSub });
    expect(r3.trades[0]).toMatchObject({ exitReason: 'stop_loss', exitPrice: 98, exitMs: 2 * H + q });
    expect(r3.intrabar).toMatchObject({ ambiguousBars: 1, resolvedByLowerTimeframe: 1, ambiguousLowerTimeframeCandles: 1 });
    // lower-timeframe candles that do not cover the bar: fall back to the worst case
    const elsewhere = toColumns(bars([[100, 103.5, 99.8, 103.2]], q, 10 * H));
    const r4 = runBacktest(toColumns(slTpBars), slTpStrategy, noSlip, { lowerTimeframe: elsewhere });
    expect(r4.trades[0]!.exitReason).toBe('stop_loss');
    expect(r4.intrabar).toMatchObject({ rule: 'lower_timeframe', ambiguousBars: 1, resolvedByLowerTimeframe: 0, resolvedWorstCase: 1 });
  });

  it('a gap through the stop fills at the open (worse than the stop)', () => {
    const c = toColumns(bars([[100, 100, 100, 100], [100, 100.5, 99.5, 100], [95, 96, 94, 95.5]]));
    const r = runBacktest(c, script({ 0: dec('long', 0.5, 0.02) }), noSlip);
    expect(r.trades[0]).toMatchObject({ exitReason: 'stop_loss', exitPrice: 95, exitMs: 2 * H });
    expect(r.equity[2]).toBeCloseTo(10_000 - 5 - 50 * 95 * 0.001 - 250, 9);
  });

  it('short stop-loss and take-profit mirror the long ones (slippage applied to both)', () => {
    const c = toColumns(bars([[100, 100, 100, 100], [100, 100, 100, 100], [100, 101, 96.5, 97]]));
    const r = runBacktest(c, script({ 0: dec('short', 0.5, 0.02, 0.03) }), {});
    const entry = 100 * 0.9995; // 99.95
    const tp = entry * 0.97;
    const exitPx = tp * 1.0005; // buying back: slippage up
    expect(r.trades[0]!.exitReason).toBe('take_profit');
    expect(r.trades[0]!.exitPrice).toBeCloseTo(exitPx, 12);
    expect(r.equity[2]).toBeCloseTo(10_000 - 50 * entry * 0.001 - 50 * exitPx * 0.001 + 50 * (entry - exitPx), 9);
  });

  it('liquidation at 5x notional on 10x isolated margin loses exactly the margin plus fees', () => {
    const c = toColumns(bars([[100, 100, 100, 100], [100, 100, 100, 100], [99, 99, 90.4, 92], [92, 92, 92, 92]]));
    const r = runBacktest(c, script({ 0: dec('long', 5) }), { ...noSlip, leverage: 10 });
    // qty 500 @ 100, margin 5000, fee 50; liq 100 x (1 - 0.1 + 0.005) = 90.5; closes at bankruptcy 90
    expect(r.fills[1]).toMatchObject({ reason: 'liquidation', price: 90, qty: 500 });
    expect(r.equity[2]).toBeCloseTo(10_000 - 50 - 5000 - 500 * 90 * 0.001, 9); // 4905
    expect(r.liquidations).toBe(1);
    expect(r.equity[3]).toBeCloseTo(4905, 9);
    // a 5% stop lies before the liquidation price: the stop fills instead
    const r2 = runBacktest(c, script({ 0: dec('long', 5, 0.05) }), { ...noSlip, leverage: 10 });
    expect(r2.trades[0]).toMatchObject({ exitReason: 'stop_loss', exitPrice: 95 });
    expect(r2.liquidations).toBe(0);
  });

  it('same_close timing fills at the deciding bar close', () => {
    const c = toColumns(bars([[100, 100, 100, 100], [100, 110, 100, 110]]));
    const r = runBacktest(c, script({ 0: dec('long', 0.5) }), { fillTiming: 'same_close', closeAtEnd: false });
    expect(r.fills[0]!.price).toBeCloseTo(100.05, 12);
    expect(r.equity[0]).toBeCloseTo(10_000 - 50 * 100.05 * 0.001 + 50 * (100 - 100.05), 9);
    expect(r.openPosition).toMatchObject({ side: 'long', qty: 50 });
  });

  it('slippage models: spread (half of it) and volatility (the last CLOSED bar range, never the fill bar)', () => {
    const c = toColumns(bars([[100, 102, 98, 100], [100, 130, 70, 100]]));
    const spread = runBacktest(c, script({ 0: dec('long', 0.5) }), { slippage: { model: 'spread', spreadPct: 0.002 }, closeAtEnd: false });
    expect(spread.fills[0]!.price).toBeCloseTo(100 * 1.001, 12);
    // bar 0 range (102 - 98) / 100 = 4% x 0.1 = 0.4%; bar 1's own 60% range must not be used
    const vol = runBacktest(c, script({ 0: dec('long', 0.5) }), { slippage: { model: 'volatility', rangeMultiple: 0.1, minRate: 0.0001 }, closeAtEnd: false });
    expect(vol.fills[0]!.price).toBeCloseTo(100 * 1.004, 12);
    expect(vol.fills[0]!.fee).toBeCloseTo(vol.fills[0]!.qty * 100.4 * 0.001, 12);
  });

  it('targets beyond the leverage are clipped so margin plus costs fit in equity', () => {
    const c = toColumns(bars([[100, 100, 100, 100], [100, 100, 100, 100]]));
    const r = runBacktest(c, script({ 0: dec('long', 3) }), { closeAtEnd: false });
    const maxFrac = 1 / ((1 + 0.0005) * (1 + 0.001));
    expect(r.fills[0]!.qty).toBeCloseTo((maxFrac * 10_000) / 100, 9);
    expect(r.clippedTargets).toBe(1);
    expect(r.fills[0]!.qty * r.fills[0]!.price + r.fills[0]!.fee).toBeCloseTo(10_000, 9);
  });

  it('a repeated target is a no-op (no drift re-sizing) until something else moved the position', () => {
    const c = toColumns(bars([[100, 100, 100, 100], [100, 100, 100, 100], [100, 200, 100, 200], [200, 200, 200, 200], [200, 200, 200, 200]]));
    const same = runBacktest(c, script({ 0: dec('long', 0.5), 1: dec('long', 0.5), 2: dec('long', 0.5), 3: dec('long', 0.5) }), { ...noSlip, closeAtEnd: false });
    expect(same.fills).toHaveLength(1); // equity doubled, the position was not re-sized
    const changed = runBacktest(c, script({ 0: dec('long', 0.5), 2: dec('long', 0.45) }), { ...noSlip, closeAtEnd: false });
    // equity at bar 3's open: 10000 - 5 + 50 x 100 = 14995 -> target 0.45 x 14995 / 200 = 33.74: sell 16.26
    expect(changed.fills[1]!.side).toBe('sell');
    expect(changed.fills[1]!.qty).toBeCloseTo(50 - (0.45 * 14995) / 200, 9);
    // after a stop the same target enters again
    const g = toColumns(bars([[100, 100, 100, 100], [100, 100, 100, 100], [95, 96, 94, 95], [95, 95, 95, 95]]));
    const again = runBacktest(g, script({ 0: dec('long', 0.5, 0.02), 1: dec('long', 0.5, 0.02), 2: dec('long', 0.5, 0.02) }), { ...noSlip, closeAtEnd: false });
    expect(again.fills.map((f) => [f.reason, f.side, f.tsMs / H])).toEqual([['signal', 'buy', 1], ['stop_loss', 'sell', 2], ['signal', 'buy', 3]]);
  });

  it('hold keeps the position; reversal is a close then an open', () => {
    const c = toColumns(bars([[100, 100, 100, 100], [100, 100, 100, 100], [100, 100, 100, 100], [100, 100, 100, 100]]));
    const r = runBacktest(c, script({ 0: dec('long', 0.5), 1: holdDecision(0, 'wait'), 2: dec('short', 0.5) }), { ...noSlip, closeAtEnd: false });
    expect(r.fills.map((f) => [f.side, f.qty])).toEqual([['buy', 50], ['sell', 50], ['sell', 49.975]]);
    // the short is sized on equity marked at the open before the reversal's own fees: 0.5 x 9995 / 100
    expect(r.trades).toHaveLength(1);
  });
});

describe('SimulatedAccount: bar-by-bar use (the paper account)', () => {
  it('onBar returns the fills each bar caused and rejects bad bars and decisions', () => {
    const a = new SimulatedAccount({ slippage: { model: 'fixed', rate: 0 } });
    expect(a.onBar({ tsMs: 0, open: 100, high: 100, low: 100, close: 100, volume: 1 })).toEqual([]);
    a.submitDecision(dec('long', 0.5));
    const f = a.onBar({ tsMs: H, open: 100, high: 101, low: 99, close: 100, volume: 1 });
    expect(f).toHaveLength(1);
    expect(a.position()).toMatchObject({ side: 'long', qty: 50, entryPrice: 100 });
    expect(a.position()!.liquidationPrice).toBeCloseTo(liquidationPrice(100, 1, 1, 0.005), 12);
    expect(a.balance().equity).toBeCloseTo(9995, 9);
    expect(() => a.onBar({ tsMs: H, open: 100, high: 101, low: 99, close: 100, volume: 1 })).toThrow(DataError);
    expect(() => a.onBar({ tsMs: 2 * H, open: 100, high: 99, low: 98, close: 100, volume: 1 })).toThrow(/malformed/);
    expect(() => a.submitDecision(dec('long', NaN))).toThrow(/sizeFraction/);
    expect(() => new SimulatedAccount({ leverage: 0 })).toThrow(ConfigError);
    expect(() => new SimulatedAccount({ slippage: { model: 'fixed', rate: -1 } })).toThrow(/slippage/);
  });

  it('orders: market next open, limit as maker when traded through, reduce-only, idempotent client ids, margin rejection', () => {
    const a = new SimulatedAccount({ slippage: { model: 'fixed', rate: 0 }, makerFeeRate: 0.0002 });
    a.onBar({ tsMs: 0, open: 100, high: 100, low: 100, close: 100, volume: 1 });
    const m = a.placeOrder({ symbol: 'SIM', side: 'buy', type: 'market', qty: 10, clientOrderId: 'm1', stopLossPrice: 90 });
    expect(a.placeOrder({ symbol: 'SIM', side: 'buy', type: 'market', qty: 10, clientOrderId: 'm1' }).id).toBe(m.id);
    a.placeOrder({ symbol: 'SIM', side: 'buy', type: 'limit', qty: 5, price: 98, clientOrderId: 'l1' });
    expect(a.openOrders()).toHaveLength(2);
    a.onBar({ tsMs: H, open: 101, high: 102, low: 97, close: 99, volume: 1 });
    expect(a.findOrder('m1')).toMatchObject({ status: 'filled', avgFillPrice: 101, filledQty: 10 });
    expect(a.findOrder('l1')).toMatchObject({ status: 'filled', avgFillPrice: 98 });
    expect(a.fills[1]).toMatchObject({ liquidity: 'maker', fee: 5 * 98 * 0.0002, clientOrderId: 'l1' });
    expect(a.position()).toMatchObject({ qty: 15, stopLossPrice: 90 });
    expect(a.position()!.entryPrice).toBeCloseTo((10 * 101 + 5 * 98) / 15, 12);
    a.placeOrder({ symbol: 'SIM', side: 'sell', type: 'market', qty: 100, reduceOnly: true, clientOrderId: 'r1' });
    a.placeOrder({ symbol: 'SIM', side: 'buy', type: 'market', qty: 1000, clientOrderId: 'big' });
    a.onBar({ tsMs: 2 * H, open: 100, high: 100, low: 100, close: 100, volume: 1 });
    expect(a.findOrder('r1')).toMatchObject({ status: 'filled', filledQty: 15 });
    expect(a.findOrder('big')!.status).toBe('rejected');
    expect(a.positionQty).toBe(0);
    const l = a.placeOrder({ symbol: 'SIM', side: 'sell', type: 'limit', qty: 1, price: 200, clientOrderId: 'l2' });
    a.cancelOrder(l.id);
    expect(a.findOrder('l2')!.status).toBe('cancelled');
    expect(() => a.placeOrder({ symbol: 'ETHUSDT', side: 'buy', type: 'market', qty: 1, clientOrderId: 'x' })).toThrow(/symbol/);
    expect(() => a.placeOrder({ symbol: 'SIM', side: 'buy', type: 'limit', qty: 1, clientOrderId: 'y' })).toThrow(/price/);
  });
});
