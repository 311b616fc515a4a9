/**
 * Portfolio parity: a 5-symbol paper portfolio (one account, one gate) fed by the Bybit simulator's
 * WebSocket over real Bybit 1m candles (BTC, ETH, SOL, BNB, DOGE) makes the same fills as
 * runPortfolioBacktest (@task-agnostic/backtest) of the same decisions over the same candles, to
 * the cent, symbol by symbol and in the one equity. The model is a tiny one with random (seeded)
 * weights: what matters is same decisions -> same trades.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { holdDecision, readCandlesCsvSync, sliceColumns, type CandleColumns, type SymbolId, type TradingDecision } from '@task-agnostic/core';
import { initBackend } from '@task-agnostic/tf';
import { runPortfolioBacktest } from '@task-agnostic/backtest';
import { BybitClient } from '@task-agnostic/bybit';
import { BybitSimulator } from '@task-agnostic/bybit/testing';
import type { TaskAgnosticModel } from '@task-agnostic/model';
import { candleFile } from '@task-agnostic/test-utils';
import { pino } from 'pino';
import { parseTraderConfig } from './config.js';
import { Journal } from './journal.js';
import { createUntrainedModel } from './model-factory.js';
import type { Portfolio } from './portfolio.js';
import { createPortfolio } from './setup.js';

const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'BNBUSDT', 'DOGEUSDT'];
const files = SYMBOLS.map((s) => candleFile(`bybit_${s}_1m.csv`));
const STEPS = 400;
const account = { initialEquity: 10_000, takerFeeRate: 0.00055, makerFeeRate: 0.0002, slippage: { model: 'fixed' as const, rate: 0.0005 }, qtyStep: 0.001 };
const config = parseTraderConfig({
  symbols: SYMBOLS, interval: '1m', fusion: 'consistency', fusionConfig: { minConfidence: 0.3, minAgreement: 0.3, baseSizeFraction: 1 },
  // The system layer reads wall-clock latency: on a loaded shared machine it would make the decisions depend on the load.
  // These proofs compare runs with each other, so its budget is lifted here (the layer is tested in risk and stress.test.ts).
  risk: { minConfidence: 0.25, minAgreement: 0.15, baseSize: 0.5, maxTotalExposure: 1, portfolio: { maxSymbolExposure: 1 }, strategy: { maxConsecutiveLosses: 1000 }, system: { latencyBudgetMs: 60_000, maxLatencyMs: 120_000 } },
  account, statusEvery: 0,
});
const cents = (x: number): number => Math.round(x * 100);
const until = async (ok: () => boolean, what: string, ms = 30_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
};

/** Rows of every series at the timestamps all of them have, after `from`, at most `n`. */
function aligned(all: CandleColumns[], from: number, n: number): CandleColumns[] {
  const sets = all.map((c) => new Set(Array.from(c.tsMs)));
  const ts = Array.from(all[0]!.tsMs).filter((t) => t > from && sets.every((s) => s.has(t))).slice(0, n);
  return all.map((c) => {
    const idx = new Map(Array.from(c.tsMs).map((t, i) => [t, i]));
    const rows = ts.map((t) => idx.get(t)!);
    const pick = (a: ArrayLike<number>): Float64Array => Float64Array.from(rows, (i) => a[i]!);
    const close = pick(c.close);
    const volume = pick(c.volume);
    return { length: rows.length, tsMs: pick(c.tsMs), open: pick(c.open), high: pick(c.high), low: pick(c.low), close, volume, turnover: Float64Array.from(close, (x, i) => x * volume[i]!) };
  });
}

describe.skipIf(!files.every(Boolean))('a 5-symbol paper portfolio over the Bybit simulator equals the backtest portfolio mode', () => {
  let model: TaskAgnosticModel;
  let series: CandleColumns[];
  let journal: Journal;
  let pf: Portfolio;

  beforeAll(async () => {
    await initBackend();
    const all = files.map((f) => readCandlesCsvSync(f!).candles);
    model = createUntrainedModel(sliceColumns(all[0]!, 0, 1500), { seed: 11 });
    series = aligned(all, all[0]!.tsMs[1499]!, STEPS);
    const sim = await new BybitSimulator(SYMBOLS.map((s, k) => ({ symbol: s, interval: '1m' as const, candles: series[k]! })), { startMs: series[0]!.tsMs[0]! }).start();
    const client = new BybitClient({ mode: 'custom', restUrl: sim.restUrl, wsPublicUrl: sim.wsPublicUrl });
    journal = Journal.open(path.join(mkdtempSync(path.join(tmpdir(), 'tat-pf-parity-')), 'j.db'));
    pf = createPortfolio({ config, journal, logger: pino({ level: 'silent' }), model, runTag: 'pfpar' });
    await pf.recover();
    const off = await client.streamCandles(SYMBOLS, '1m', (c) => void pf.push(c.symbol, c.candle), { fromMs: series[0]!.tsMs[0]! });
    try {
      for (let i = 0; i < STEPS; i++) {
        sim.advance(1);
        const ts = series[0]!.tsMs[i]!;
        await until(() => [...pf.engines.values()].every((e) => e.lastCandleTs >= ts), `step ${i}`);
      }
      await pf.idle();
    } finally {
      await off();
      client.close();
      await sim.close();
    }
  }, 600_000);
  afterAll(() => {
    for (const e of pf?.engines.values() ?? []) e.o.predictor.dispose?.();
    model?.dispose();
    journal?.close();
  });

  it('makes the same fills and trades as runPortfolioBacktest of the journaled decisions, to the cent', () => {
    expect(journal.counts().candles).toBe(SYMBOLS.length * STEPS);
    const decide = (t: number, s: SymbolId): TradingDecision | null => {
      const ts = series[0]!.tsMs[t]!;
      const targets = journal.targetsAt(s, ts);
      const g = targets[targets.length - 1];
      if (!g) return null;
      return { ...holdDecision(ts, 'journal'), action: g.side === 'long' ? 'buy' : 'sell', side: g.side, sizeFraction: g.sizeFraction, stopLossPct: g.stopLossPct, takeProfitPct: g.takeProfitPct };
    };
    const bt = runPortfolioBacktest(Object.fromEntries(SYMBOLS.map((s, k) => [s, series[k]!])), decide, { ...account, interval: '1m', closeAtEnd: false }, SYMBOLS);
    const paper = pf.paper!;
    expect(new Set(bt.fills.map((f) => f.symbol)).size).toBeGreaterThanOrEqual(3);
    expect(bt.trades.length).toBeGreaterThanOrEqual(5);
    for (const s of SYMBOLS) {
      const a = paper.account(s).fills;
      const b = bt.bySymbol[s]!.fills;
      expect(a.length, s).toBe(b.length);
      a.forEach((f, i) => {
        expect([f.tsMs, f.side, f.reason, cents(f.price), cents(f.fee)]).toEqual([b[i]!.tsMs, b[i]!.side, b[i]!.reason, cents(b[i]!.price), cents(b[i]!.fee)]);
        expect(f.qty).toBeCloseTo(b[i]!.qty, 9);
      });
    }
    expect(paper.trades.map((t) => [t.symbol, t.exitMs, cents(t.pnl)])).toEqual(bt.trades.map((t) => [t.symbol, t.exitMs, cents(t.pnl)]));
    expect(cents(paper.equity)).toBe(cents(bt.equity[bt.equity.length - 1]!));
    // The journal holds every fill as the backtest made it.
    expect(journal.counts().fills).toBe(bt.fills.length);
    console.log(`portfolio parity: ${SYMBOLS.length} symbols x ${STEPS} steps, ${bt.trades.length} trades, ${bt.fills.length} fills, final equity paper ${paper.equity.toFixed(2)} / backtest ${bt.equity[bt.equity.length - 1]!.toFixed(2)}`);
  });

  it('the gate saw the whole portfolio: exposure and correlation reasons name other symbols', () => {
    const reasons = journal.all<{ reasons_json: string }>('SELECT reasons_json FROM verdicts').map((r) => r.reasons_json).join('\n');
    expect(reasons).toMatch(/correlates -?\d\.\d\d with open [A-Z]+USDT (long|short)|remaining exposure/);
  });
});
