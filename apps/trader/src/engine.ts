/**
 * TradingEngine: the trading loop for one symbol. On every closed candle, in this order:
 *   venue.onBar (fills of earlier orders) -> StreamingPredictor (features, encoder, heads) -> fusion
 *   -> RiskGate -> ONE journal transaction (candle, fills, position, decision, verdict, order intent,
 *   gate snapshot) -> the order goes to the venue.
 * Nothing is sent before the transaction that describes it is durable (WAL, synchronous=FULL), so
 * after a crash a restart finds every intent. A restart replays the journaled candles through the
 * predictor and (paper) a fresh SimulatedAccount with the journaled targets, which rebuilds the same
 * state; on an exchange it looks every unsettled intent up by its client order id before sending.
 */
import { existsSync } from 'node:fs';
import { INTERVAL_MS, holdDecision, type Candle, type Interval, type OrderRequest, type Position, type SymbolId, type TaskOutputs, type TradingDecision } from '@task-agnostic/core';
import { AccountTracker, applyVerdict } from '@task-agnostic/risk';
import type { GateVerdict, OpenPosition, RiskGate, RiskGateSnapshot, RiskState } from '@task-agnostic/risk';
import type { Logger } from 'pino';
import { clientOrderId, type Journal, type JournalTarget, type TargetKind } from './journal.js';
import type { EngineObserver } from './engine-events.js';
import { LatencyWindow } from './latency.js';
import type { MarketFeed } from './market-feed.js';
import { ExchangeVenue, PaperVenue, fillsOf, type Target, type Venue } from './venue.js';

/**
 * The portfolio around one symbol's engine (Portfolio implements it): every traded symbol's open
 * position with its returns, this symbol's returns (correlation), and the closed trades of the
 * whole portfolio (the strategy layer).
 */
export interface PortfolioView {
  positions(): readonly OpenPosition[];
  returns(symbol: SymbolId): ArrayLike<number> | undefined;
  tradeReturns(): readonly number[];
  /** Exit time of the last closed trade (the strategy layer's losing-streak pause runs from it). */
  lastTradeExitMs(): number | undefined;
}

/** What the engine needs from the model: StreamingPredictor satisfies it. */
export interface CandlePredictor {
  onCandle(candle: Candle): { readonly outputs: TaskOutputs; readonly latency: { readonly featuresMs: number; readonly encoderMs: number; readonly headsMs: number } } | null;
  /** Frees what the predictor holds (StreamingPredictor: its fused head weights). */
  dispose?(): void;
}

export type Fuse = (outputs: TaskOutputs, context: { tsMs: number; symbol: SymbolId }) => TradingDecision;

export interface EngineOptions {
  readonly symbol: SymbolId;
  readonly interval: Interval;
  readonly journal: Journal;
  readonly venue: Venue;
  readonly predictor: CandlePredictor;
  readonly fuse: Fuse;
  readonly gate: RiskGate;
  /** Part of every client order id, so two runs on one account never collide (<= 6 alphanumerics used). */
  readonly runTag: string;
  readonly logger: Logger;
  /** When this file exists the kill switch engages (checked on every candle). */
  readonly killFile?: string;
  /** Status line every this many candles (0 = never); see statusLine(). */
  readonly statusEvery?: number;
  readonly onStatus?: (line: string) => void;
  /** Candles that open before this time only warm the model up: no orders (live never trades history). */
  readonly tradeFromMs?: number;
  /** Told about every candle after its order was sent (the dashboard, metrics, alerts). */
  readonly observer?: EngineObserver;
  /** Shared by every symbol of a portfolio: the account's equity history (daily / weekly limits). */
  readonly tracker?: AccountTracker;
  /** The portfolio this engine's symbol trades in (positions of all symbols, returns, trades). */
  readonly portfolio?: PortfolioView;
  /** Live connection, rate-limit budget, spread and depth (a stream or an exchange); none on a CSV replay. */
  readonly marketFeed?: MarketFeed;
}

export interface EngineStats {
  candles: number;
  duplicates: number;
  gaps: number;
  decisions: number;
  orders: number;
  fills: number;
  sendErrors: number;
  replayed: number;
}

export interface CandleResult {
  readonly decision: TradingDecision;
  readonly verdict: GateVerdict;
  readonly target: (Target & { readonly kind: TargetKind; readonly clientOrderId: string }) | null;
  /** Closed candle received -> order handed to the venue (ms); NaN when no order was sent. */
  readonly decisionToSendMs: number;
}

const SNAPSHOT_KEY = (s: SymbolId) => `risk-gate:${s}`;

export class TradingEngine {
  readonly stats: EngineStats = { candles: 0, duplicates: 0, gaps: 0, decisions: 0, orders: 0, fills: 0, sendErrors: 0, replayed: 0 };
  readonly latency = new LatencyWindow();
  private readonly iv: number;
  private lastTs = -Infinity;
  private lastClose = NaN;
  private readonly tracker: AccountTracker;
  private killReason: string | null = null;
  private lastDecision: TradingDecision | null = null;
  private lastVerdict: GateVerdict | null = null;
  /** Latency rows waiting for the next journal transaction. */
  private pendingLatency: [string, number][] = [];
  /** Intents sent at the last candle, settled by the next bar's fills (paper). */
  private openIntents: string[] = [];
  private chain: Promise<unknown> = Promise.resolve();
  private readonly recentSends: boolean[] = [];
  private stopping = false;

  constructor(readonly o: EngineOptions) {
    this.iv = INTERVAL_MS[o.interval];
    this.tracker = o.tracker ?? new AccountTracker();
  }

  get lastCandleTs(): number {
    return this.lastTs;
  }

  /** Engages the kill switch at the next candle: RiskGate.kill, then flatten. */
  requestKill(reason: string): void {
    if (this.killReason === null) this.killReason = reason;
  }

  /**
   * Resumes from the journal: replays its candles through the predictor, the account tracker and
   * (paper) the venue with the journaled targets, restores the gate, and (exchange) reconciles
   * every unsettled intent with the venue by client order id. Returns the number of candles replayed.
   */
  async recover(): Promise<number> {
    const candles = this.o.journal.candles(this.o.symbol, this.o.interval);
    for (const c of candles) this.replayJournaled(c);
    return this.finishRecover();
  }

  /**
   * One journaled candle of a restart: through the predictor, the account tracker and (paper) the
   * venue with the journaled targets. A portfolio calls it for every symbol in time order.
   */
  replayJournaled(c: Candle): void {
    const { journal, symbol, venue, predictor } = this.o;
    const paper = venue instanceof PaperVenue ? venue : null;
    if (paper) paper.onBarSync(c);
    else this.lastClose = c.close;
    if (paper) this.tracker.update(c.tsMs + this.iv, paper.equity());
    predictor.onCandle(c);
    this.openIntents = [];
    if (paper) {
      for (const t of journal.targetsAt(symbol, c.tsMs)) {
        if (t.kind === 'exit') paper.flattenSync(t.clientOrderId);
        else paper.executeSync(t, t.clientOrderId);
        this.openIntents.push(t.clientOrderId);
        this.stats.orders++;
      }
    }
    this.lastTs = c.tsMs;
    this.lastClose = c.close;
    this.stats.replayed++;
  }

  /** After the replay: restores the gate, and (exchange) reconciles every unsettled intent. Returns the candles replayed. */
  async finishRecover(): Promise<number> {
    const { journal, symbol, venue, gate } = this.o;
    const n = this.stats.replayed;
    const snap = journal.getMeta(SNAPSHOT_KEY(symbol));
    if (snap) gate.restore(JSON.parse(snap) as RiskGateSnapshot);
    const last = n ? journal.decisionAt(symbol, this.lastTs) : undefined;
    if (last) this.lastDecision = last.decision;
    if (!(venue instanceof PaperVenue)) await this.reconcile();
    if (n) {
      journal.recordEvent('recovered', { symbol, candles: n, lastTs: this.lastTs, equity: venue.equity(), position: venue.position() ?? null });
      this.o.logger.info({ symbol, candles: n, lastTs: this.lastTs, equity: venue.equity() }, 'resumed from journal');
    }
    return n;
  }

  /** Exchange venue: every unsettled intent is looked up (findOrder) before anything is re-sent. */
  async reconcile(): Promise<void> {
    const { journal, venue, symbol, logger } = this.o;
    const now = Date.now();
    for (const o of journal.unsettledOrders()) {
      if (o.symbol !== symbol) continue;
      const found = await venue.findOrder(o.clientOrderId);
      if (found) {
        journal.transaction(() => {
          journal.setOrderStatus(o.clientOrderId, found.status, now, found.id);
          for (const f of fillsOf(found)) journal.recordFill(f);
        });
        logger.info({ clientOrderId: o.clientOrderId, status: found.status }, 'reconciled order found on the exchange');
      } else {
        // Never reached the exchange: an intent of an old candle is stale; it is not re-sent.
        journal.setOrderStatus(o.clientOrderId, 'cancelled', now, undefined, 'not found on the exchange at restart: never sent');
        logger.warn({ clientOrderId: o.clientOrderId }, 'unsettled intent not on the exchange: marked cancelled, not re-sent');
      }
    }
    if (venue instanceof ExchangeVenue) {
      await venue.refresh();
      const open = await venue.exchange.openOrders(symbol);
      journal.transaction(() => {
        journal.recordPosition(symbol, venue.position(), now, 'reconcile');
        journal.recordEvent('reconcile', { symbol, position: venue.position() ?? null, balance: venue.balance(), openOrders: open.map((o) => ({ id: o.id, clientOrderId: o.clientOrderId, side: o.side, qty: o.qty, status: o.status })) });
      });
      if (open.some((o) => !journal.order(o.clientOrderId))) logger.warn({ symbol, openOrders: open.length }, 'open orders on the exchange that this journal did not place: left alone');
      logger.info({ symbol, position: venue.position() ?? null, equity: venue.equity(), openOrders: open.length }, 'reconciled with the exchange');
      this.tracker.update(now, venue.equity());
    }
  }

  /** Queues a candle (calls are serialised: a stream may deliver while the last one is in flight). */
  onCandle(candle: Candle, receivedAt = performance.now()): Promise<CandleResult | null> {
    const run = this.chain.then(() => this.processCandle(candle, receivedAt));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Waits for every queued candle. */
  idle(): Promise<unknown> {
    return this.chain;
  }

  async processCandle(c: Candle, t0: number): Promise<CandleResult | null> {
    const { journal, symbol, interval, venue, predictor, gate, logger } = this.o;
    if (this.stopping) return null; // not journaled: the source delivers it again after a restart
    if (!(c.tsMs > this.lastTs)) {
      this.stats.duplicates++;
      return null;
    }
    if (Number.isFinite(this.lastTs) && c.tsMs !== this.lastTs + this.iv) {
      this.stats.gaps++;
      logger.warn({ symbol, after: this.lastTs, got: c.tsMs, missing: (c.tsMs - this.lastTs) / this.iv - 1 }, 'candle gap in the source data');
    }
    // t0 is when the candle arrived; tStart when its turn came (a backfill burst queues candles).
    const tStart = performance.now();
    const history = this.o.tradeFromMs !== undefined && c.tsMs < this.o.tradeFromMs;
    const posBefore = venue.position();
    // The venue's bar work (paper: synchronous, done when onBar returns its promise; exchange: the
    // position/balance requests) overlaps the model: the prediction does not depend on it.
    const barDone = venue.onBar(c, history);
    const t1 = performance.now();
    const pred = predictor.onCandle(c);
    const t2 = performance.now();
    const raw = history
      ? holdDecision(c.tsMs, 'history: warm-up only, no trading on past candles', symbol)
      : pred ? this.o.fuse(pred.outputs, { tsMs: c.tsMs, symbol }) : holdDecision(c.tsMs, 'warming up: features or window not ready', symbol);
    const decision: TradingDecision = { ...raw, tsMs: c.tsMs, symbol };
    const t3 = performance.now();
    const fills = await barDone;
    const tBar = performance.now();
    const closeTs = c.tsMs + this.iv;
    // An exchange is not asked during warm-up history: its equity is known from the reconcile only.
    if (!(history && venue.kind === 'exchange')) this.tracker.update(closeTs, venue.equity());
    if (this.killReason === null && this.o.killFile && existsSync(this.o.killFile)) this.killReason = `kill file ${this.o.killFile} present`;
    const killing = this.killReason !== null && !gate.killed;
    if (killing) {
      gate.kill(this.killReason!);
      logger.warn({ symbol, reason: this.killReason, candleTs: c.tsMs }, 'kill switch engaged: flattening, no new trades until rearmed');
    }
    const pos = venue.position();
    const verdict = gate.check(decision, this.riskState(c, closeTs, pos));
    const t4 = performance.now();
    const target = targetFor(decision, verdict, pos);
    const coid = target ? clientOrderId(this.o.runTag, symbol, c.tsMs, target.kind) : null;
    const req: OrderRequest | null = target && coid ? previewOrder(target, coid, symbol, pos, venue.equity(), c.close) : null;
    const settled = this.openIntents;
    this.openIntents = [];
    const latencies = this.pendingLatency;
    this.pendingLatency = [];
    let decisionId = 0;
    journal.transaction(() => {
      journal.recordCandle(symbol, interval, c, Date.now());
      for (const f of fills) journal.recordFill(f);
      for (const id of settled) {
        const filled = fills.some((f) => f.clientOrderId === id);
        journal.setOrderStatus(id, filled ? 'filled' : 'cancelled', Date.now(), undefined, filled ? undefined : 'no change needed at the open');
      }
      if (fills.length || !samePosition(posBefore, venue.position())) journal.recordPosition(symbol, venue.position(), c.tsMs, fills.length ? 'fill' : 'exchange');
      for (const [stage, ms] of latencies) journal.recordLatency(stage, ms);
      decisionId = journal.recordDecision(symbol, decision, pred ? { ...pred.latency } : undefined);
      journal.recordVerdict(decisionId, verdict);
      journal.recordRiskLayers(decisionId, verdict.layers);
      journal.recordEquity(symbol, c.tsMs, venue.equity(), c.close, pos ? (pos.side === 'long' ? pos.qty : -pos.qty) : 0);
      if (target && coid && req) {
        journal.recordOrderIntent(req, decisionId, Date.now());
        const jt: JournalTarget = { symbol, candleTs: c.tsMs, kind: target.kind, side: target.side, sizeFraction: target.sizeFraction, stopLossPct: target.stopLossPct, takeProfitPct: target.takeProfitPct };
        journal.recordTarget(coid, jt);
      }
      if (killing) journal.recordEvent('kill', { symbol, reason: this.killReason, candleTs: c.tsMs });
      journal.setMeta(SNAPSHOT_KEY(symbol), JSON.stringify(gate.snapshot()));
    });
    const t5 = performance.now();
    let sendAt = NaN;
    let execution: 'sent' | 'noop' | 'rejected' | null = null;
    let executionError: string | undefined;
    if (target && coid) {
      sendAt = performance.now();
      const ex = await venue.execute(target, coid);
      execution = ex.status === 'rejected' ? 'rejected' : ex.status === 'noop' ? 'noop' : 'sent';
      executionError = ex.error;
      this.stats.orders++;
      this.recentSends.push(ex.status !== 'rejected');
      if (this.recentSends.length > 50) this.recentSends.shift();
      if (venue.kind === 'exchange') {
        if (ex.status === 'noop' && ex.reason) logger.warn({ symbol, clientOrderId: coid, reason: ex.reason }, 'order skipped: not sent');
        journal.transaction(() => {
          if (ex.status === 'noop') journal.setOrderStatus(coid, 'cancelled', Date.now(), undefined, ex.reason ? `skipped: ${ex.reason}` : 'no change needed');
          else journal.setOrderStatus(coid, ex.status === 'rejected' ? 'rejected' : (ex.order?.status ?? 'sent'), Date.now(), ex.order?.id, ex.error);
          for (const f of ex.fills) journal.recordFill(f);
        });
        if (ex.status === 'rejected') {
          this.stats.sendErrors++;
          logger.error({ clientOrderId: coid, error: ex.error }, 'order rejected');
        }
      } else {
        this.openIntents.push(coid);
      }
    }
    const tEnd = performance.now();
    this.stats.candles++;
    this.stats.decisions++;
    this.stats.fills += fills.length;
    this.lastTs = c.tsMs;
    this.lastClose = c.close;
    this.lastDecision = decision;
    this.lastVerdict = verdict;
    const e2e = Number.isNaN(sendAt) ? tEnd - t0 : sendAt - t0;
    const stages: [string, number][] = [
      ['queue', tStart - t0],
      ['predict', t2 - t1],
      ['fusion', t3 - t2],
      // What the venue's bar work added after the model was done (0 on paper).
      ['bar_wait', tBar - t3],
      ['risk', t4 - tBar],
      ['journal', t5 - t4],
      ['decision_to_send', e2e],
    ];
    if (pred) stages.push(['features', pred.latency.featuresMs], ['encoder', pred.latency.encoderMs], ['heads', pred.latency.headsMs]);
    // History (warm-up only) candles arrive in bursts: their waiting time is not a decision latency.
    if (!history) {
      for (const s of stages) {
        this.pendingLatency.push(s);
        this.latency.add(s[0], s[1]);
      }
    }
    if (target) logger.info({ symbol, candleTs: c.tsMs, target: target.side, size: target.sizeFraction, kind: target.kind, clientOrderId: coid }, 'order sent');
    if (this.o.observer) {
      try {
        this.o.observer.onCandle({
          symbol, candle: c, decisionId, decision, outputs: pred?.outputs, verdict, target: target && coid ? { ...target, clientOrderId: coid } : null,
          execution, ...(executionError !== undefined ? { executionError } : {}), fills: fills.length, equity: venue.equity(), position: venue.position(),
          stages: history ? [] : stages, killEngaged: killing, killReason: this.killReason, history,
        });
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'engine observer failed (ignored)');
      }
    }
    const every = this.o.statusEvery ?? 0;
    if (every > 0 && this.stats.candles % every === 0) this.o.onStatus?.(this.statusLine());
    return { decision, verdict, target: target && coid ? { ...target, clientOrderId: coid } : null, decisionToSendMs: Number.isNaN(sendAt) ? NaN : e2e };
  }

  private riskState(c: Candle, closeTs: number, pos: Position | undefined): RiskState {
    const { portfolio, marketFeed, symbol } = this.o;
    const own = portfolio ? undefined : this.o.venue.trades();
    const recent = portfolio ? portfolio.tradeReturns().slice(-20) : own!.slice(-20).map((t) => t.returnPct);
    const lastTradeExitMs = portfolio ? portfolio.lastTradeExitMs() : own!.length ? own![own!.length - 1]!.exitMs : undefined;
    const okSends = this.recentSends.filter(Boolean).length;
    const live = marketFeed?.(symbol);
    const returns = portfolio?.returns(symbol);
    // The circuit breaker: the bar's largest move from its open (signed), up or down.
    const up = c.high / c.open - 1;
    const down = c.low / c.open - 1;
    const move = Math.abs(down) > Math.abs(up) ? down : up;
    return {
      nowMs: closeTs,
      account: this.tracker.state(),
      positions: portfolio ? portfolio.positions() : pos ? [{ symbol: pos.symbol, side: pos.side, qty: pos.qty, markPrice: c.close }] : [],
      ...(returns ? { returns } : {}),
      // Without a live feed (a CSV replay) the candle itself is the data: connected, fresh.
      exchange: live
        ? { connected: live.connected, lastDataMs: closeTs - live.lastMessageAgeMs, ...(live.rateLimitRemaining !== undefined ? { rateLimitRemaining: live.rateLimitRemaining } : {}) }
        : { connected: true, lastDataMs: closeTs },
      market: {
        lastBarMovePct: move,
        ...(live?.spreadPct !== undefined ? { spreadPct: live.spreadPct } : {}),
        ...(live?.depthNotional !== undefined ? { depthNotional: live.depthNotional } : {}),
      },
      strategy: { recentTradeReturns: recent, ...(lastTradeExitMs !== undefined ? { lastTradeExitMs } : {}) },
      system: {
        latencyMs: this.latency.median('decision_to_send') ?? 0,
        errorRate: this.recentSends.length ? 1 - okSends / this.recentSends.length : 0,
      },
    };
  }

  /** Writes latencies still held in memory (call on shutdown). */
  flush(): void {
    const rows = this.pendingLatency;
    this.pendingLatency = [];
    if (rows.length) this.o.journal.transaction(() => rows.forEach(([s, ms]) => this.o.journal.recordLatency(s, ms)));
  }

  /** Graceful stop: waits for the candle in flight, optionally flattens, writes what is pending. */
  async shutdown(options: { flatten?: boolean; reason?: string } = {}): Promise<void> {
    // Candles still queued are dropped (never journaled), so the candle in flight is the last one.
    this.stopping = true;
    await this.chain;
    const { journal, venue, symbol, logger } = this.o;
    if (options.flatten && venue.position() && Number.isFinite(this.lastTs)) {
      const coid = clientOrderId(this.o.runTag, symbol, this.lastTs, 'exit');
      const pos = venue.position()!;
      const target: Target = { side: 'flat', sizeFraction: 0, stopLossPct: 0, takeProfitPct: 0 };
      journal.transaction(() => {
        journal.recordOrderIntent({ symbol, side: pos.side === 'long' ? 'sell' : 'buy', type: 'market', qty: pos.qty, reduceOnly: true, clientOrderId: coid }, null, Date.now());
        journal.recordTarget(coid, { symbol, candleTs: this.lastTs, kind: 'exit', ...target });
      });
      const fills = await venue.flattenNow(coid);
      this.stats.orders++;
      journal.transaction(() => {
        for (const f of fills) journal.recordFill(f);
        journal.setOrderStatus(coid, fills.length ? 'filled' : 'cancelled', Date.now());
        journal.recordPosition(symbol, venue.position(), this.lastTs, 'flatten on exit');
      });
      logger.info({ symbol, fills: fills.length }, 'flattened on exit');
    }
    this.flush();
    this.o.predictor.dispose?.();
    journal.recordEvent('shutdown', { symbol, reason: options.reason ?? 'stop', equity: venue.equity(), lastTs: this.lastTs });
  }

  /** One line: equity, position, last decision and decision latency p50/p99. */
  statusLine(): string {
    const v = this.o.venue;
    const p = v.position();
    const d = this.lastDecision;
    const lat = this.latency.stats('decision_to_send');
    const pos = p ? `${p.side} ${fmt(p.qty, 6)} @ ${fmt(p.entryPrice, 2)}` : 'flat';
    const dec = d ? `${d.action}/${d.side} conf ${fmt(d.confidence, 2)}${this.lastVerdict && !this.lastVerdict.approved ? ' (vetoed)' : ''}` : 'none';
    const when = Number.isFinite(this.lastTs) ? new Date(this.lastTs).toISOString().slice(0, 16) : '-';
    return `[${when}] ${this.o.symbol} equity ${fmt(v.equity(), 2)} | ${pos} | last ${dec} | candles ${this.stats.candles + this.stats.replayed} orders ${this.stats.orders} | decision->send p50 ${fmt(lat.p50, 2)} ms p99 ${fmt(lat.p99, 2)} ms`;
  }
}

const fmt = (x: number, d: number): string => (Number.isFinite(x) ? x.toFixed(d) : '-');

function samePosition(a: Position | undefined, b: Position | undefined): boolean {
  if (!a || !b) return a === b;
  return a.side === b.side && a.qty === b.qty && a.entryPrice === b.entryPrice;
}

/**
 * What the venue is asked to do after a decision: the kill switch flattens; a hold keeps the
 * position; a vetoed trade keeps it too (a veto blocks new risk, it does not close); a flat
 * decision closes an open position; otherwise the side at the gate's size and exits.
 */
/** The target a gated decision implies (risk's applyVerdict, typed for the journal). */
export function targetFor(d: TradingDecision, v: GateVerdict, pos: Position | undefined): (Target & { kind: TargetKind }) | null {
  return applyVerdict(d, v, pos?.side);
}

/** The order a target implies at the last close (the journal's record; the paper account sizes at the next open). */
export function previewOrder(t: Target, clientOrderId: string, symbol: SymbolId, pos: Position | undefined, equity: number, close: number): OrderRequest {
  const s = t.side === 'long' ? 1 : t.side === 'short' ? -1 : 0;
  const q = pos ? (pos.side === 'long' ? pos.qty : -pos.qty) : 0;
  const delta = (s * t.sizeFraction * equity) / close - q;
  return { symbol, side: delta >= 0 ? 'buy' : 'sell', type: 'market', qty: Math.abs(delta), clientOrderId, ...(s === 0 ? { reduceOnly: true } : {}) };
}

