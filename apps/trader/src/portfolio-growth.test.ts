/**
 * Issue 24: the 150,000-candle replay's per-candle cost grew with the run. Per-step work, counted
 * (not timed), must not grow with the history: the risk state reads the portfolio's closed trades
 * every candle, and must read only the trades closed since the last step; a step's journal commit
 * must write as many pages late in a run as early on.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateSyntheticMarket, holdDecision, type Candle, type CandleColumns, type Trade } from '@task-agnostic/core';
import { pino } from 'pino';
import { parseTraderConfig } from './config.js';
import type { CandlePredictor, Fuse } from './engine.js';
import { Journal } from './journal.js';
import { createPortfolio } from './setup.js';

const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'];
const BARS = 1_500;
const quiet = pino({ level: 'silent' });
const at = (c: CandleColumns, i: number): Candle => ({ tsMs: c.tsMs[i]!, open: c.open[i]!, high: c.high[i]!, low: c.low[i]!, close: c.close[i]!, volume: c.volume[i]! });
/** TEST DOUBLE: no model. */
const nullPredictor = (): CandlePredictor => ({ onCandle: () => ({ outputs: {}, latency: { featuresMs: 0, encoderMs: 0, headsMs: 0 } }) });
/** TEST DOUBLE decision function: long or short 20 % by turns of 3 bars (per symbol), tight exits: trades close all the time. */
const flipper = (k: number): Fuse => (_o, ctx) => {
  const long = Math.floor(ctx.tsMs / 3_600_000 / 3 + k) % 2 === 0;
  return { ...holdDecision(ctx.tsMs, 'test double: flip'), action: long ? 'buy' : 'sell', side: long ? 'long' : 'short', confidence: 0.9, agreement: 0.9, sizeFraction: 0.2, stopLossPct: 0.004, takeProfitPct: 0.004 };
};
const risk = {
  profile: 'source' as const, baseSize: 0.5, maxTotalExposure: 1, portfolio: { maxSymbolExposure: 1, maxCorrelation: 1 }, strategy: { maxConsecutiveLosses: 100_000 },
  // the system layer reads wall-clock latency: lifted, so a loaded machine does not change the decisions
  system: { latencyBudgetMs: 60_000, maxLatencyMs: 120_000 }, killSwitch: { maxDrawdown: 0.99 }, dailyLossLimit: 0.99, weeklyDrawdownLimit: 0.99,
};

describe('per-step work of a long portfolio run does not grow with its history', () => {
  it('reads each closed trade once, and writes as many journal pages per step at the end as at the start', async () => {
    const markets = SYMBOLS.map((_s, k) => generateSyntheticMarket({ bars: BARS, seed: 21 + k, interval: '1h', startMs: Date.UTC(2024, 0, 1), startPrice: 100 * (k + 1) }).candles);
    const journal = Journal.open(path.join(mkdtempSync(path.join(tmpdir(), 'tat-pf-growth-')), 'j.db'), { synchronous: 'normal' });
    const cfg = parseTraderConfig({ symbols: SYMBOLS, statusEvery: 0, risk, account: { initialEquity: 10_000 } });
    const pf = createPortfolio({ config: cfg, journal, logger: quiet, runTag: 'growth', predictorFor: nullPredictor, fuseFor: (s) => flipper(SYMBOLS.indexOf(s)) });
    await pf.recover();
    // Count the elements read from every symbol's trade list (a Proxy in front of the ledger's own list).
    let reads = 0;
    for (const s of SYMBOLS) {
      const a = pf.paper!.account(s);
      const proto = Object.getPrototypeOf(a) as object;
      Object.defineProperty(a, 'trades', {
        get: () =>
          new Proxy(Reflect.get(proto, 'trades', a) as Trade[], {
            get(t, p, r) {
              if (typeof p === 'string' && /^\d+$/.test(p)) reads++;
              return Reflect.get(t, p, r);
            },
          }),
      });
    }
    const step = (i: number) => pf.step(new Map(SYMBOLS.map((s, k) => [s, { candle: at(markets[k]!, i), receivedAt: performance.now() }])));
    /** Pages (WAL frames) one step's writes add: the latency batches written first, so the step writes its own rows only. */
    const stepPages = async (i: number): Promise<number> => {
      for (const e of pf.engines.values()) e.flush();
      journal.checkpoint(true);
      await step(i);
      journal.checkpoint(true);
      return journal.writeStats.lastCheckpointFrames;
    };
    const early: number[] = [];
    const late: number[] = [];
    for (let i = 0; i < BARS; i++) {
      if (i >= 100 && i < 110) early.push(await stepPages(i));
      else if (i >= BARS - 10) late.push(await stepPages(i));
      else await step(i);
    }
    const trades = pf.paper!.trades.length;
    expect(trades).toBeGreaterThan(800); // a long history of closed trades
    // Every closed trade read once from its symbol's list (re-merging the whole list at every close
    // would read ~trades^2 / 2 elements, here hundreds of thousands).
    expect(reads).toBe(trades);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(early)).toBeGreaterThan(0);
    // measured: ~32 pages early, ~37 late (the fills index: one more page per fill); a (stage, ms) latency index or any
    // write that grows with the history would be hundreds
    expect(mean(late)).toBeLessThanOrEqual(mean(early) * 1.5 + 2);
    // The strategy layer still sees the portfolio's last trades in exit order.
    expect(pf.tradeReturns(5)).toEqual(pf.paper!.trades.slice(-5).map((t) => t.returnPct));
    for (const e of pf.engines.values()) e.flush();
    journal.close();
  });

  it("writes every symbol's latency batch in one commit (one fsync per batch, not one per symbol)", async () => {
    const markets = SYMBOLS.map((_s, k) => generateSyntheticMarket({ bars: 450, seed: 31 + k, interval: '1h', startMs: Date.UTC(2024, 0, 1), startPrice: 100 * (k + 1) }).candles);
    const journal = Journal.open(path.join(mkdtempSync(path.join(tmpdir(), 'tat-pf-growth-')), 'j.db'), { synchronous: 'normal' });
    const cfg = parseTraderConfig({ symbols: SYMBOLS, statusEvery: 0, risk, account: { initialEquity: 10_000 } });
    const pf = createPortfolio({ config: cfg, journal, logger: quiet, runTag: 'growth', predictorFor: nullPredictor, fuseFor: (s) => flipper(SYMBOLS.indexOf(s)) });
    await pf.recover();
    // Latency rows per commit that wrote any.
    const perCommit: number[] = [];
    let rows = 0;
    const tx = journal.transaction.bind(journal);
    journal.transaction = <T>(fn: () => T): T => {
      rows = 0;
      const r = tx(fn);
      if (rows) perCommit.push(rows);
      return r;
    };
    const rec = journal.recordLatency.bind(journal);
    journal.recordLatency = (stage: string, ms: number) => {
      rows++;
      rec(stage, ms);
    };
    for (let i = 0; i < 450; i++) await pf.step(new Map(SYMBOLS.map((s, k) => [s, { candle: at(markets[k]!, i), receivedAt: performance.now() }])));
    // 10 stages per candle, 3 symbols: a batch of 1,000 rows per symbol is due every 100 steps (or after 5 s).
    expect(perCommit.length).toBeGreaterThanOrEqual(4);
    // Every commit holds all three symbols' rows of the same steps (a commit per symbol would hold 1,000).
    for (const n of perCommit) expect(n % 30).toBe(0);
    expect(perCommit.reduce((a, b) => a + b, 0)).toBe(journal.all<{ n: number }>('SELECT COUNT(*) AS n FROM latencies')[0]!.n);
    journal.close();
  });
});
