import { describe, expect, it } from 'vitest';
import { generateSyntheticMarket, holdDecision, type Trade, type TradingDecision } from '@task-agnostic/core';
import type { SimulatedAccount } from './account.js';
import { runPortfolioBacktest } from './portfolio-engine.js';
import { PortfolioAccount } from './portfolio-account.js';

const H = 3_600_000;
const target = (side: 'long' | 'short' | 'flat', sizeFraction: number, stopLossPct = 0, takeProfitPct = 0): TradingDecision => ({
  ...holdDecision(0, 'test'),
  action: side === 'long' ? 'buy' : 'sell',
  side,
  sizeFraction,
  stopLossPct,
  takeProfitPct,
  confidence: 1,
  agreement: 1,
});
const bar = (t: number, p: number) => ({ tsMs: t * H, open: p, high: p * 1.001, low: p * 0.999, close: p, volume: 1 });

/** The definition: every symbol's trades, stably sorted by exit time (ties: symbol order, then each symbol's order). */
const reference = (pf: PortfolioAccount): Trade[] => pf.symbols.flatMap((s) => [...pf.account(s).trades]).sort((x, y) => x.exitMs - y.exitMs);

/** Counts the elements read from a ledger's trade list (a Proxy in front of the real one). */
function countReads(a: SimulatedAccount, counter: { n: number; on: boolean }): void {
  const proto = Object.getPrototypeOf(a) as object;
  Object.defineProperty(a, 'trades', {
    get: () =>
      new Proxy(Reflect.get(proto, 'trades', a) as Trade[], {
        get(t, p, r) {
          if (counter.on && typeof p === 'string' && /^\d+$/.test(p)) counter.n++;
          return Reflect.get(t, p, r);
        },
      }),
  });
}

describe('PortfolioAccount.trades', () => {
  it('is the stable sort by exit time at every read, also when an earlier symbol closes a trade at an exit time already merged', () => {
    const pf = new PortfolioAccount(['A', 'B', 'C'], { initialEquity: 1000 }, { barMs: H });
    const [a, b, c] = (['A', 'B', 'C'] as const).map((s) => pf.account(s));
    // Bar 0: every symbol goes long (filled at bar 1's open); bar 1: every symbol goes flat (exits at bar 2's open, same exit time).
    for (const x of [a!, b!, c!]) x.onBar(bar(0, 100));
    for (const x of [a!, b!, c!]) x.submitDecision(target('long', 0.2));
    for (const x of [a!, b!, c!]) x.onBar(bar(1, 101));
    for (const x of [a!, b!, c!]) x.submitDecision(target('flat', 0));
    // Bar 2 driven out of symbol order (C, B, then A), reading in between: each later one sorts BEFORE what is merged.
    c!.onBar(bar(2, 102));
    expect(pf.trades.map((t) => t.symbol)).toEqual(['C']);
    b!.onBar(bar(2, 102));
    expect(pf.trades.map((t) => t.symbol)).toEqual(['B', 'C']);
    a!.onBar(bar(2, 102));
    expect(pf.trades.map((t) => t.symbol)).toEqual(['A', 'B', 'C']);
    expect(pf.trades).toEqual(reference(pf));
    expect(pf.tradeMergeWork).toEqual({ placed: 3, moved: 3 }); // B moved past C, A past both
    // A trade of B with a later exit goes at the end, without moving anything.
    b!.submitDecision(target('short', 0.2));
    b!.onBar(bar(3, 103));
    b!.submitDecision(target('flat', 0));
    b!.onBar(bar(4, 100));
    expect(pf.trades.map((t) => [t.symbol, t.exitMs / H])).toEqual([['A', 2], ['B', 2], ['C', 2], ['B', 4]]);
    expect(pf.trades).toEqual(reference(pf));
    expect(pf.tradeMergeWork).toEqual({ placed: 4, moved: 3 });
  });

  it('a read costs the trades closed since the last one, not the history: elements read stay = trades, however long the run', () => {
    const bars = 3000;
    const m = ['A', 'B', 'C'].map((_s, k) => generateSyntheticMarket({ bars, seed: 11 + k, interval: '1h' }).candles);
    const counter = { n: 0, on: true };
    let reads = 0;
    const checkAt = new Set([100, 1000, 2999]);
    const decide = (t: number, s: string, pf: PortfolioAccount): TradingDecision | null => {
      if (t === 0 && s === 'A') for (const x of pf.symbols) countReads(pf.account(x), counter);
      const ts = pf.trades; // read every bar of every symbol, as the trader's risk state does
      reads++;
      if (checkAt.has(t) && s === 'C') {
        counter.on = false; // the reference reads everything: not counted
        expect(ts).toEqual(reference(pf));
        counter.on = true;
      }
      if (t % 3 !== 0) return null;
      const up = ((t / 3) + s.charCodeAt(0)) % 2 === 0;
      return { ...target(up ? 'long' : 'short', 0.2, 0.004, 0.004), tsMs: m[0]!.tsMs[t]! };
    };
    const r = runPortfolioBacktest({ A: m[0]!, B: m[1]!, C: m[2]! }, decide, { interval: '1h', takerFeeRate: 0.00055 });
    const n = r.trades.length;
    expect(n).toBeGreaterThan(1000); // a long history: a full re-merge per read would read ~n/2 trades per read
    expect(reads).toBe(3 * bars);
    // One read per new trade (a rebuild of the whole list on every read would read the trades so far
    // at every read: ~ n x reads / 2, here millions).
    expect(counter.n).toBe(n);
    expect(r.account.tradeMergeWork.placed).toBe(n);
    expect(r.account.tradeMergeWork.moved).toBeLessThanOrEqual(n);
    expect(r.trades).toEqual(reference(r.account));
  });
});
