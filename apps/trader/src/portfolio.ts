/**
 * One portfolio over every traded symbol: one account (a paper PortfolioAccount, or the one
 * exchange account), one risk gate and one account tracker, and a TradingEngine per symbol for its
 * model, journal rows and orders. Candles are processed a time step at a time: when every symbol's
 * candle of a step is in (or a later one shows a symbol skipped it), the step runs in the fixed
 * symbol order: the paper account's beginStep, every symbol's return, then each engine's candle.
 * The backtest's portfolio mode (runPortfolioBacktest) drives its account in the same order, so a
 * paper portfolio and a backtest of the same decisions make the same fills.
 */
import type { PortfolioAccount } from '@task-agnostic/backtest';
import type { Candle, SymbolId } from '@task-agnostic/core';
import type { OpenPosition } from '@task-agnostic/risk';
import { flushLatencyOf, writePrepared, type CandleResult, type PortfolioView, type PreparedCandle, type TradingEngine } from './engine.js';
import { PaperVenue } from './venue.js';

interface Pending {
  readonly candle: Candle;
  readonly receivedAt: number;
}

export class Portfolio implements PortfolioView {
  readonly engines = new Map<SymbolId, TradingEngine>();
  private readonly rets = new Map<SymbolId, number[]>();
  private readonly lastClose = new Map<SymbolId, number>();
  /** Candles waiting for the rest of their time step, by symbol. */
  private readonly waiting = new Map<SymbolId, Pending[]>();
  private readonly latestTs = new Map<SymbolId, number>();
  private chain: Promise<unknown> = Promise.resolve();
  private stepsDone = 0;
  /**
   * One journal transaction per time step (default). false: one per symbol, each symbol decided and
   * sent before the next is looked at (the behaviour before; kept for the benchmark's baseline).
   */
  batchSteps = true;

  constructor(readonly symbols: readonly SymbolId[], readonly paper?: PortfolioAccount) {
    for (const s of symbols) {
      this.rets.set(s, []);
      this.waiting.set(s, []);
    }
  }

  /** Adds a symbol's engine (built with this portfolio as its `portfolio` option). */
  add(engine: TradingEngine): void {
    this.engines.set(engine.o.symbol, engine);
  }

  private engine(s: SymbolId): TradingEngine {
    const e = this.engines.get(s);
    if (!e) throw new Error(`no engine for ${s}`);
    return e;
  }

  // ---- PortfolioView -------------------------------------------------------------------------

  positions(): OpenPosition[] {
    const out: OpenPosition[] = [];
    for (const s of this.symbols) {
      const p = this.engines.get(s)?.o.venue.position();
      if (!p) continue;
      out.push({ symbol: s, side: p.side, qty: p.qty, markPrice: this.lastClose.get(s) ?? p.entryPrice, returns: this.rets.get(s)! });
    }
    return out;
  }

  returns(symbol: SymbolId): ArrayLike<number> | undefined {
    return this.rets.get(symbol);
  }

  /** Returns of the portfolio's closed trades, oldest first (paper: the account's; exchange: every venue's, by exit time). */
  tradeReturns(last = Infinity): number[] {
    if (this.paper) {
      const ts = this.paper.trades;
      return ts.slice(Math.max(0, ts.length - last)).map((t) => t.returnPct);
    }
    return [...this.engines.values()]
      .flatMap((e) => e.o.venue.trades())
      .sort((a, b) => a.exitMs - b.exitMs)
      .slice(-Math.min(last, Number.MAX_SAFE_INTEGER))
      .map((t) => t.returnPct);
  }

  /** Exit time of the portfolio's last closed trade (the strategy layer's losing-streak pause runs from it). */
  lastTradeExitMs(): number | undefined {
    if (this.paper) {
      // The paper account's trades are sorted by exit time.
      const ts = this.paper.trades;
      return ts.length ? ts[ts.length - 1]!.exitMs : undefined;
    }
    let last: number | undefined;
    for (const t of [...this.engines.values()].flatMap((e) => e.o.venue.trades())) if (last === undefined || t.exitMs > last) last = t.exitMs;
    return last;
  }

  // ---- driving -------------------------------------------------------------------------------

  /** Per-bar log return of each symbol (closed bars only), appended at the start of its step. */
  private noteClose(s: SymbolId, close: number): void {
    const prev = this.lastClose.get(s);
    if (prev !== undefined) this.rets.get(s)!.push(Math.log(close / prev));
    this.lastClose.set(s, close);
  }

  /** Restart: replays every symbol's journaled candles in time order, then restores and reconciles. Returns candles per symbol. */
  async recover(): Promise<Map<SymbolId, number>> {
    const bySymbol = this.symbols.map((s) => {
      const e = this.engine(s);
      return e.o.journal.candles(s, e.o.interval);
    });
    const idx = this.symbols.map(() => 0);
    for (;;) {
      let ts = Infinity;
      bySymbol.forEach((cs, k) => {
        const c = cs[idx[k]!];
        if (c && c.tsMs < ts) ts = c.tsMs;
      });
      if (!Number.isFinite(ts)) break;
      const step: [number, Candle][] = [];
      bySymbol.forEach((cs, k) => {
        const c = cs[idx[k]!];
        if (c && c.tsMs === ts) {
          step.push([k, c]);
          idx[k]!++;
        }
      });
      this.paper?.beginStep();
      for (const [k, c] of step) this.noteClose(this.symbols[k]!, c.close);
      for (const [k, c] of step) this.engine(this.symbols[k]!).replayJournaled(c);
      for (const [k, c] of step) this.latestTs.set(this.symbols[k]!, c.tsMs);
    }
    const out = new Map<SymbolId, number>();
    for (const s of this.symbols) out.set(s, await this.engine(s).finishRecover());
    return out;
  }

  /**
   * One time step: candles of some or all symbols at the same open time, run in symbol order. Every
   * symbol is decided first (venue bar, model, fusion, gate, in symbol order), then all of the
   * step's rows go to the journal in ONE transaction (one fsync instead of one per symbol), then
   * the orders go out in symbol order. With a paper account that fills targets at the same close
   * (fillTiming same_close) a target changes the wallet the next symbol is sized on, so each
   * symbol then runs whole before the next (one transaction each), as runPortfolioBacktest does.
   */
  async step(candles: ReadonlyMap<SymbolId, Pending>): Promise<(CandleResult | null)[]> {
    const order = this.symbols.filter((s) => candles.has(s));
    const work = this.runStep(order, candles);
    for (const s of order) this.engine(s).track(work); // a shutdown waits for the step in flight
    return work;
  }

  private async runStep(order: readonly SymbolId[], candles: ReadonlyMap<SymbolId, Pending>): Promise<(CandleResult | null)[]> {
    this.paper?.beginStep();
    // Only candles an engine will take (not duplicates) move the returns.
    const fresh = order.filter((s) => candles.get(s)!.candle.tsMs > this.engine(s).lastCandleTs);
    for (const s of fresh) this.noteClose(s, candles.get(s)!.candle.close);
    const out: (CandleResult | null)[] = [];
    const journal = order.length ? this.engine(order[0]!).o.journal : undefined;
    const batch = this.batchSteps && this.paper?.config.fillTiming !== 'same_close' && order.every((s) => this.engine(s).o.journal === journal);
    if (!batch) {
      for (const s of order) {
        const p = candles.get(s)!;
        out.push(await this.engine(s).processCandle(p.candle, p.receivedAt));
      }
    } else {
      const prepared: (PreparedCandle | null)[] = [];
      for (const s of order) {
        const p = candles.get(s)!;
        prepared.push(await this.engine(s).prepareCandle(p.candle, p.receivedAt));
      }
      const rows = prepared.filter((p): p is PreparedCandle => p !== null);
      if (rows.length) writePrepared(journal!, rows);
      for (let k = 0; k < order.length; k++) if (prepared[k]) await this.engine(order[k]!).sendPrepared(prepared[k]!);
      for (let k = 0; k < order.length; k++) out.push(prepared[k] ? this.engine(order[k]!).completeCandle(prepared[k]!, true) : null);
      // Off the decision path: every engine's latency rows in one transaction when due, and the WAL checkpoint.
      flushLatencyOf(journal!, order.map((s) => this.engine(s)));
    }
    this.stepsDone++;
    return out;
  }

  /**
   * A candle from a stream (any order across symbols, in order per symbol). A time step runs once
   * every symbol has delivered a candle at or after its time; a symbol whose later candle arrives
   * first is taken to have skipped that step (a gap). Resolves when the candle's step has run.
   */
  push(symbol: SymbolId, candle: Candle, receivedAt = performance.now()): Promise<unknown> {
    const q = this.waiting.get(symbol);
    if (!q) return Promise.resolve();
    q.push({ candle, receivedAt });
    this.latestTs.set(symbol, Math.max(this.latestTs.get(symbol) ?? -Infinity, candle.tsMs));
    const run = this.chain.then(() => this.drain());
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async drain(): Promise<void> {
    for (;;) {
      let ready = Infinity;
      for (const s of this.symbols) ready = Math.min(ready, this.latestTs.get(s) ?? -Infinity);
      let ts = Infinity;
      for (const q of this.waiting.values()) if (q[0] && q[0].candle.tsMs < ts) ts = q[0].candle.tsMs;
      if (!Number.isFinite(ts) || ts > ready) return;
      const step = new Map<SymbolId, Pending>();
      for (const s of this.symbols) {
        const q = this.waiting.get(s)!;
        while (q[0] && q[0].candle.tsMs < ts) q.shift(); // out of order (a stream does not do this)
        if (q[0] && q[0].candle.tsMs === ts) step.set(s, q.shift()!);
      }
      await this.step(step);
    }
  }

  /** Waits for every queued step. */
  idle(): Promise<unknown> {
    return this.chain;
  }

  /** The paper venue of a symbol (tests). */
  paperVenue(symbol: SymbolId): PaperVenue | undefined {
    const v = this.engines.get(symbol)?.o.venue;
    return v instanceof PaperVenue ? v : undefined;
  }

  get steps(): number {
    return this.stepsDone;
  }

  /** Equity of the one account (paper portfolio, or the exchange's balance through any venue). */
  equity(): number {
    if (this.paper) return this.paper.equity;
    const first = this.engines.values().next().value as TradingEngine | undefined;
    return first ? first.o.venue.equity() : NaN;
  }
}
