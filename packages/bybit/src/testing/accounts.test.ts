import { describe, expect, it } from 'vitest';
import { allocColumns, type CandleColumns } from '@task-agnostic/core';
import { SimAccount, SimReject } from './accounts.js';
import { SimMarket } from './market.js';

/** Hand-made hourly bars: [open, high, low, close]. */
function bars(rows: [number, number, number, number][]): CandleColumns {
  const c = allocColumns(rows.length);
  rows.forEach(([o, h, l, cl], i) => {
    c.tsMs[i] = i * 3_600_000;
    c.open[i] = o;
    c.high[i] = h;
    c.low[i] = l;
    c.close[i] = cl;
    c.volume[i] = 1;
  });
  return c;
}

const opts = { initialUsdt: 1000, takerFeeRate: 0.001, makerFeeRate: 0.0005, leverage: 10 };

describe('simulated account arithmetic (hand-computed)', () => {
  it('long, add, partial close, flip to short: average price, realised PnL and fees', () => {
    const c = bars([[100, 100, 100, 100], [110, 110, 110, 110], [120, 120, 120, 120], [90, 90, 90, 90]]);
    const m = new SimMarket([{ symbol: 'X', interval: '1h', candles: c }], 3_600_000); // bar 0 closed: last = 100
    const a = new SimAccount(m, opts);
    a.create({ symbol: 'X', side: 'Buy', orderType: 'Market', qty: 1 }); // fee 0.1
    m.nowMs = 2 * 3_600_000; // last = 110
    a.create({ symbol: 'X', side: 'Buy', orderType: 'Market', qty: 1 }); // fee 0.11, avg (100+110)/2 = 105
    expect(a.positions.get('X')).toMatchObject({ size: 2, avgPrice: 105 });
    m.nowMs = 3 * 3_600_000; // last = 120
    a.create({ symbol: 'X', side: 'Sell', orderType: 'Market', qty: 1 }); // realise +15, fee 0.12
    expect(a.wallet).toBeCloseTo(1000 - 0.1 - 0.11 + 15 - 0.12, 10);
    expect(a.unrealised('X')).toBeCloseTo(15, 10); // 1 * (120 - 105)
    m.nowMs = 4 * 3_600_000; // last = 90
    a.create({ symbol: 'X', side: 'Sell', orderType: 'Market', qty: 3 }); // close 1 at 90: -15; open short 2 at 90; fee 0.27
    expect(a.positions.get('X')).toMatchObject({ size: -2, avgPrice: 90 });
    expect(a.wallet).toBeCloseTo(1000 - 0.1 - 0.11 + 15 - 0.12 - 15 - 0.27, 10);
    expect(a.equity()).toBeCloseTo(a.wallet, 10); // short at the last price: no unrealised PnL
    expect(a.available()).toBeCloseTo(a.wallet - (2 * 90) / 10, 10);
  });

  it('resting limit fills at its price as a maker; take-profit closes at the target', () => {
    const c = bars([[100, 100, 100, 100], [100, 101, 95, 97], [97, 108, 96, 107]]);
    const m = new SimMarket([{ symbol: 'X', interval: '1h', candles: c }], 3_600_000);
    const a = new SimAccount(m, opts);
    const o = a.create({ symbol: 'X', side: 'Buy', orderType: 'Limit', qty: 2, price: 96, takeProfit: 105, orderLinkId: 'l1' });
    expect(o.orderStatus).toBe('New');
    m.nowMs = 2 * 3_600_000;
    a.onBarClosed(m.feed('X')!, 1); // low 95 <= 96: filled at 96, maker fee 2*96*0.0005 = 0.096
    expect(o).toMatchObject({ orderStatus: 'Filled', avgPrice: 96 });
    expect(a.positions.get('X')).toMatchObject({ size: 2, avgPrice: 96, takeProfit: 105 });
    m.nowMs = 3 * 3_600_000;
    a.onBarClosed(m.feed('X')!, 2); // high 108 >= 105: closed at 105, +18, taker fee 2*105*0.001 = 0.21
    expect(a.positions.get('X')!.size).toBe(0);
    expect(a.wallet).toBeCloseTo(1000 - 0.096 + 18 - 0.21, 10);
    expect(() => a.create({ symbol: 'X', side: 'Buy', orderType: 'Market', qty: 1, orderLinkId: 'l1' })).toThrow(SimReject);
    expect(() => a.create({ symbol: 'X', side: 'Buy', orderType: 'Market', qty: 0.0005 })).toThrow(/qty/);
  });
});
