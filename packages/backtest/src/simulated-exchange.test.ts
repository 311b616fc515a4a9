import { describe, expect, it } from 'vitest';
import { generateSyntheticMarket, ConfigError } from '@task-agnostic/core';
import type { ClosedCandle, Exchange } from '@task-agnostic/core';
import { SimulatedAccount } from './account.js';
import { runBacktest } from './engine.js';
import { SimulatedExchange } from './simulated-exchange.js';

const market = generateSyntheticMarket({ bars: 400, seed: 9 }).candles;

describe('SimulatedExchange (core Exchange over the simulated account)', () => {
  it('a trader-style loop over streamCandles + placeOrder trades like the backtest engine with the same decisions', async () => {
    const account = new SimulatedAccount({ symbol: 'BTCUSDT' });
    const ex: Exchange = new SimulatedExchange(account, { symbol: 'BTCUSDT', interval: '1h', candles: market });
    // strategy: long 0.5 of equity on even days, flat on odd ones, as market orders sized by the trader.
    // Synthetic bars open at the previous close, so sizing at the close equals the engine's sizing at the next open.
    const wantLong = (tsMs: number) => Math.floor(tsMs / 86_400_000) % 2 === 0;
    let n = 0;
    await new Promise<void>((resolve) => {
      void ex.streamCandles(['BTCUSDT'], '1h', (c: ClosedCandle) => {
        n++;
        const pos = account.positionQty;
        const target = wantLong(c.candle.tsMs) ? (0.5 * account.equity) / c.candle.close : 0;
        // the same rule the engine uses: trade when flat/flipping or the change exceeds 10% of target
        if ((target === 0 && pos !== 0) || (target > 0 && (pos === 0 || Math.abs(target - pos) > 0.1 * target))) {
          const d = target - pos;
          void ex.placeOrder({ symbol: 'BTCUSDT', side: d > 0 ? 'buy' : 'sell', type: 'market', qty: Math.abs(d), clientOrderId: `o${n}` });
        }
        if (n === market.length) resolve();
      });
    });
    const bt = runBacktest(
      market,
      (t) => ({ tsMs: market.tsMs[t]!, action: 'buy', side: wantLong(market.tsMs[t]!) ? 'long' : 'flat', confidence: 1, agreement: 1, sizeFraction: 0.5, stopLossPct: 0, takeProfitPct: 0, reasoning: '' }),
      { symbol: 'BTCUSDT', closeAtEnd: false },
    );
    const strip = (f: { side: string; qty: number; price: number; fee: number; tsMs: number }) => [f.side, f.qty, f.price, f.fee, f.tsMs];
    expect(account.fills.length).toBeGreaterThan(10);
    expect(account.fills.map(strip)).toEqual(bt.fills.map(strip));
    expect(account.equity).toBeCloseTo(bt.equity[market.length - 1]!, 9);
    expect((await ex.balance()).equity).toBe(account.equity);
    expect(await ex.positions('ETHUSDT')).toEqual([]);
  });

  it('fetchCandles serves [start, end) and bad symbols get a ConfigError', async () => {
    const account = new SimulatedAccount({ symbol: 'BTCUSDT' });
    const ex = new SimulatedExchange(account, { symbol: 'BTCUSDT', interval: '1h', candles: market });
    const c = await ex.fetchCandles('BTCUSDT', '1h', market.tsMs[10]!, market.tsMs[20]!);
    expect(c.length).toBe(10);
    expect(c.tsMs[0]).toBe(market.tsMs[10]);
    await expect(ex.fetchCandles('ETHUSDT', '1h', 0, 1)).rejects.toThrow(ConfigError);
    await expect(new SimulatedExchange(account).fetchCandles('BTCUSDT', '1h', 0, 1)).rejects.toThrow(/onBar/);
    expect(() => new SimulatedExchange(account, { symbol: 'X', interval: '1h', candles: market })).toThrow(/symbol/);
  });
});
