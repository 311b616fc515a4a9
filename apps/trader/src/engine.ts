/**
 * TradingEngine: the trading loop for one symbol. On every closed candle, in this order:
 *   venue.onBar (fills of earlier orders) -> StreamingPredictor (features, encoder, heads) -> fusion
 *   (from the position held at the close) -> RiskGate -> ONE journal transaction (candle, fills, position, decision, verdict, order intent,
 *   gate snapshot) -> the order goes to the venue.
 * Nothing is sent before the transaction that describes it is durable (WAL, synchronous=FULL), so
 * after a crash a restart finds every intent. A restart replays the journaled candles through the
 * predictor and (paper) a fresh SimulatedAccount with the journaled targets, which rebuilds the same
 * state; on an exchange it looks every unsettled intent up by its client order id before sending.
 */
import { existsSync } from 'node:fs';
import { INTERVAL_MS, holdDecision, type Candle, type Fill, type Interval, type Order, type OrderRequest, type Position, type SymbolId, type TaskOutputs, type TradingDecision } from '@task-agnostic/core';
import { AccountTracker, applyVerdict } from '@task-agnostic/risk';
import type { GateVerdict, OpenPosition, RiskGate, RiskGateSnapshot, RiskState } from '@task-agnostic/risk';
import type { Logger } from 'pino';
import { clientOrderId, type Journal, type JournalTarget, type TargetKind } from './journal.js';
import type { EngineObserver } from './engine-events.js';
import { LatencyWindow } from './latency.js';
import type { MarketFeed } from './market-feed.js';
import { UnresolvedOrders } from './unresolved-orders.js';
import { ExchangeVenue, PaperVenue, fillsOf, isTransientVenueError, type Execution, type Target, type Venue } from './venue.js';

/**
 * The portfolio around one symbol's engine (Portfolio implements it): every traded symbol's open
 * position with its returns, this symbol's returns (correlation), and the closed trades of the
 * whole portfolio (the strategy layer).
 */
export interface PortfolioView {
  positions(): readonly OpenPosition[];
  returns(symbol: SymbolId): ArrayLike<number> | undefined;
  tradeReturns(last?: number): readonly number[];
  /** Exit time of the last closed trade (the strategy layer's losing-streak pause runs from it). */
  lastTradeExitMs(): number | undefined;
}

/** What the engine needs from the model: StreamingPredictor satisfies it. */
export interface CandlePredictor {
  onCandle(candle: Candle): { readonly outputs: TaskOutputs; readonly latency: { readonly featuresMs: number; readonly encoderMs: number; readonly headsMs: number } } | null;
  /** Frees what the predictor holds (StreamingPredictor: its fused head weights). */
  dispose?(): void;
}

/**
 * The decision function. `heldExposure` is the position held at the candle's close as a signed
 * fraction of equity (qty x close / equity): a policy's no-trade band compares its target with it.
 */
export type Fuse = (outputs: TaskOutputs, context: { tsMs: number; symbol: SymbolId; heldExposure?: number }) => TradingDecision;

export interface EngineOptions {
  readonly symbol: SymbolId;
  readonly interval: Interval;
  readonly journal: Journal;
  readonly venue: Venue;
  readonly predictor: CandlePredictor;
  readonly fuse: Fuse;
  /**
   * Stateful decision policies (the tilt: its GARCH forecast and score smoothing): told every candle
   * in order with the model's outputs (undefined while it warms up), live, warm-up and replayed from
   * the journal at a restart alike, before `fuse` decides on it.
   */
  readonly onBar?: (c: Candle, outputs: TaskOutputs | undefined) => void;
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
  /**
   * Exchange venues: how long a candle waits for its order's answer (ms, default 2000). A request
   * still open after this goes on in the background: candles keep flowing, and the symbol takes no
   * new entries (the gate's exchange layer) and no orders until it resolves.
   */
  readonly orderStallMs?: number;
  /** Exchange venues: extra attempts to read the account after a transient error (default 2), with backoff from `retryBaseMs` (default 250). */
  readonly accountRetries?: number;
  readonly retryBaseMs?: number;
  /**
   * The wall clock (ms) of order deadlines (an order of unknown fate waits out its recv window on
   * it), the equity tracker and the journal's order and position times. Default Date.now; tests
   * pass a clock they move, so that "before" and "after" a deadline do not depend on the machine's load.
   */
  readonly now?: () => number;
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
/** The error rate's smallest denominator (the window holds the last 50 calls). */
const MIN_CALLS = 20;
/**
 * Latency rows are written together, in their own transaction after the send: every ~100 candles
 * (1,000 rows), or 5 s after the last write (live candles come a minute apart: then every candle),
 * so the dashboard's histograms trail by at most that.
 */
const LATENCY_BATCH_ROWS = 1_000;
const LATENCY_FLUSH_MS = 5_000;

/** A candle decided, its journal rows captured, not sent yet (TradingEngine.prepareCandle). */
export interface PreparedCandle {
  readonly c: Candle;
  readonly t0: number;
  readonly history: boolean;
  /** performance.now() at: its turn, bar work started, prediction done, bar work done, fusion done, gate done. */
  readonly marks: readonly [number, number, number, number, number, number];
  readonly pred: ReturnType<CandlePredictor['onCandle']>;
  readonly decision: TradingDecision;
  readonly verdict: GateVerdict;
  readonly target: CandleResult['target'];
  readonly fills: readonly Fill[];
  readonly killing: boolean;
  /** The candle's journal rows (call inside a transaction). */
  readonly write: () => void;
  decisionId: number;
  /** How long the transaction that wrote it took (ms). */
  journalMs: number;
  sendAt: number;
  execution: 'sent' | 'noop' | 'rejected' | null;
  executionError: string | undefined;
}

/**
 * A portfolio step's housekeeping after its sends: when any engine's latency batch is due, every
 * engine's rows in ONE transaction (one fsync, not one per symbol in the same step: their batches
 * fill up together), then the WAL checkpoint (when due).
 */
export function flushLatencyOf(journal: Journal, engines: readonly TradingEngine[]): void {
  const now = performance.now();
  if (engines.some((e) => e.latencyRowsHeld > 0) && engines.some((e) => e.latencyDue(now))) {
    journal.transaction(() => {
      for (const e of engines) e.writeLatency();
    });
  }
  journal.checkpoint();
}

/**
 * Writes prepared candles in ONE journal transaction (one fsync with synchronous=FULL): a single
 * engine writes its candle alone, a portfolio step every symbol's at once. After it returns the
 * rows are durable and the orders they describe may be sent.
 */
export function writePrepared(journal: Journal, ps: readonly PreparedCandle[]): void {
  const a = performance.now();
  journal.transaction(() => {
    for (const p of ps) p.write();
  });
  const ms = performance.now() - a;
  for (const p of ps) p.journalMs = ms;
}

export class TradingEngine {
  private readonly now: () => number;
  readonly stats: EngineStats = { candles: 0, duplicates: 0, gaps: 0, decisions: 0, orders: 0, fills: 0, sendErrors: 0, replayed: 0 };
  readonly latency = new LatencyWindow();
  private readonly iv: number;
  private lastTs = -Infinity;
  private readonly tracker: AccountTracker;
  private killReason: string | null = null;
  private lastDecision: TradingDecision | null = null;
  private lastVerdict: GateVerdict | null = null;
  /** Latency rows waiting to be written (in batches, after a send: see completeCandle). */
  private pendingLatency: [string, number][] = [];
  private lastLatencyFlush = performance.now();
  /** Intents sent at the last candle, settled by the next bar's fills (paper). */
  private openIntents: string[] = [];
  private chain: Promise<unknown> = Promise.resolve();
  /** Outcomes of the last 50 exchange calls (sends; on an exchange also account reads): the system layer's error rate. */
  private readonly recentCalls: boolean[] = [];
  private stopping = false;
  /** Orders whose outcome is not known yet (exchange venues): see unresolved-orders.ts. */
  readonly unresolved = new UnresolvedOrders();

  constructor(readonly o: EngineOptions) {
    this.now = o.now ?? Date.now;
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
    if (paper) this.tracker.update(c.tsMs + this.iv, paper.equity());
    const r = predictor.onCandle(c);
    this.o.onBar?.(c, r?.outputs);
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
    const now = this.now();
    for (const o of journal.unsettledOrders()) {
      if (o.symbol !== symbol) continue;
      const found = await venue.findOrder(o.clientOrderId);
      if (found) {
        await this.adoptFound(o.clientOrderId, found, undefined);
        logger.info({ clientOrderId: o.clientOrderId, status: found.status }, 'reconciled order found on the exchange');
      } else {
        // Not there yet is not "never sent": the request may be held somewhere (it was in flight at the
        // crash) and the exchange takes it until its signed timestamp plus the recv window. Every
        // signing happened before this restart, so after now + window + margin it can no longer appear.
        const until = now + this.unknownForMs();
        journal.setOrderStatus(o.clientOrderId, 'unknown', now, undefined, `not found on the exchange at restart; may still arrive (in flight at the crash): unresolved until ${new Date(until).toISOString()} (recv window + margin)`);
        this.unresolved.unknownUntil(o.clientOrderId, until, now);
        logger.warn({ clientOrderId: o.clientOrderId, until: new Date(until).toISOString() }, 'unsettled intent not on the exchange yet: fate unknown until the recv window has passed (no new entries meanwhile, never re-sent)');
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

  /** How long after its last signing an order of unknown fate may still reach the exchange. */
  private unknownForMs(): number {
    return this.o.venue instanceof ExchangeVenue ? this.o.venue.unknownForMs : 7_000;
  }

  private noteCall(ok: boolean): void {
    this.recentCalls.push(ok);
    if (this.recentCalls.length > 50) this.recentCalls.shift();
  }

  /**
   * Adopts what the exchange says about an order of ours: its status and fills, and the executions
   * it led to that we did not place (its stop-loss / take-profit, already executed).
   */
  private async adoptFound(clientOrderId: string, found: Order, note: string | undefined): Promise<void> {
    const { journal, venue } = this.o;
    let closing: Fill[] = [];
    if (venue instanceof ExchangeVenue) {
      venue.adopt(clientOrderId);
      if (found.filledQty > 0) closing = await venue.closingFillsSince(found.updatedMs, found).catch(() => []);
    }
    const now = this.now();
    journal.transaction(() => {
      journal.setOrderStatus(clientOrderId, found.status, now, found.id, note);
      for (const f of fillsOf(found)) journal.recordFill(f);
      for (const f of closing) journal.recordFill(f);
    });
  }

  /**
   * Looks up every unresolved order whose recv window (plus margin) has passed: found -> adopted;
   * not found -> it can no longer reach the exchange: cancelled (never re-sent). A transient error
   * leaves it for the next candle; a fatal one is thrown.
   */
  private async resolveDue(): Promise<void> {
    const { journal, venue, logger, symbol } = this.o;
    for (const u of this.unresolved.due(this.now())) {
      let found: Order | undefined;
      try {
        found = await venue.findOrder(u.clientOrderId);
        this.noteCall(true);
      } catch (err) {
        if (!isTransientVenueError(err)) throw err;
        this.noteCall(false);
        logger.warn({ symbol, clientOrderId: u.clientOrderId, err: (err as Error).message }, 'unresolved order: lookup failed (transient), retried at the next candle');
        continue;
      }
      if (found) {
        await this.adoptFound(u.clientOrderId, found, 'adopted from the exchange after its outcome was unknown');
        logger.warn({ symbol, clientOrderId: u.clientOrderId, status: found.status, filledQty: found.filledQty }, 'unresolved order found on the exchange: adopted');
      } else {
        journal.setOrderStatus(u.clientOrderId, 'cancelled', this.now(), undefined, 'never reached the exchange: not found after its signed timestamp + recv window + margin');
        logger.warn({ symbol, clientOrderId: u.clientOrderId }, 'unresolved order not on the exchange after the recv window: cancelled, not re-sent');
      }
      this.unresolved.settle(u.clientOrderId);
    }
  }

  /**
   * The venue's bar work with what a transient failure leaves: on an exchange a failed account read
   * (position / balance) is retried with backoff; a read that still fails counts once in the system
   * layer's error rate (veto above its budget, the kill switch at half), and the candle goes on
   * without the account's state (`accountError`): no order for it. A fatal error (bad keys, a bug)
   * is thrown.
   */
  private async barWork(first: Promise<readonly Fill[]>, c: Candle, history: boolean): Promise<{ fills: readonly Fill[]; accountError?: string }> {
    const { venue, logger, symbol } = this.o;
    if (venue.kind !== 'exchange') return { fills: await first };
    const retries = this.o.accountRetries ?? 2;
    const base = this.o.retryBaseMs ?? 250;
    let attempt = first;
    for (let k = 0; ; k++) {
      try {
        const fills = await attempt;
        if (!history) this.noteCall(true);
        return { fills };
      } catch (err) {
        if (!isTransientVenueError(err)) throw err;
        const msg = (err as Error).message;
        const banned = (err as { bannedUntilMs?: unknown }).bannedUntilMs;
        // an IP ban refuses every request locally until it ends: retrying now is pointless
        if (k >= retries || typeof banned === 'number') {
          this.noteCall(false); // one failed read (its retries are part of it)
          logger.error({ symbol, candleTs: c.tsMs, err: msg, attempts: k + 1 }, 'account state unreadable (transient error): this candle takes no order');
          return { fills: [], accountError: msg };
        }
        logger.warn({ symbol, candleTs: c.tsMs, err: msg, attempt: k + 1 }, 'account read failed (transient): retrying with backoff');
        await new Promise((r) => setTimeout(r, base * 2 ** k));
        attempt = venue.onBar(c, history);
      }
    }
  }

  /** Writes an exchange order's answer to the journal and settles (or keeps unresolved) its client id. */
  private settleSend(coid: string, ex: Execution): Execution {
    const { journal, logger, symbol } = this.o;
    const now = this.now();
    if (ex.status === 'noop' && ex.reason) logger.warn({ symbol, clientOrderId: coid, reason: ex.reason }, 'order skipped: not sent');
    this.noteCall(ex.status !== 'rejected' && ex.status !== 'unknown');
    if (ex.status === 'unknown') {
      const until = now + this.unknownForMs();
      journal.setOrderStatus(coid, 'unknown', now, undefined, `outcome unknown (${ex.error ?? 'no answer'}): unresolved until ${new Date(until).toISOString()} (recv window + margin)`);
      this.unresolved.unknownUntil(coid, until, now);
      logger.error({ symbol, clientOrderId: coid, error: ex.error, until: new Date(until).toISOString() }, 'order outcome unknown: looked up again after the recv window; no new entries meanwhile');
      return ex;
    }
    journal.transaction(() => {
      if (ex.status === 'noop') journal.setOrderStatus(coid, 'cancelled', now, undefined, ex.reason ? `skipped: ${ex.reason}` : 'no change needed');
      else journal.setOrderStatus(coid, ex.status === 'rejected' ? 'rejected' : (ex.order?.status ?? 'sent'), now, ex.order?.id, ex.error);
      for (const f of ex.fills) journal.recordFill(f);
    });
    this.unresolved.settle(coid);
    if (ex.status === 'rejected') {
      this.stats.sendErrors++;
      logger.error({ clientOrderId: coid, error: ex.error }, 'order rejected');
    }
    return ex;
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
    const p = await this.prepareCandle(c, t0);
    if (!p) return null;
    writePrepared(this.o.journal, [p]);
    await this.sendPrepared(p);
    return this.completeCandle(p);
  }

  /**
   * Makes `idle()` and `shutdown()` wait for work on this engine that runs outside onCandle (a
   * portfolio's time step drives prepareCandle / sendPrepared / completeCandle itself).
   */
  track(work: Promise<unknown>): void {
    this.chain = this.chain.then(() => work).catch(() => undefined);
  }

  /**
   * A closed candle up to its journal rows: the venue's bar (fills), the model, fusion, the gate and
   * the target, with every row the candle writes captured (values taken now) in `write`. Nothing is
   * sent yet: the rows must be durable first (writePrepared), then sendPrepared. Null when the
   * candle is a duplicate or the engine is stopping.
   */
  async prepareCandle(c: Candle, t0: number): Promise<PreparedCandle | null> {
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
    // Orders whose outcome was unknown and whose recv window has passed: ask the exchange first.
    if (venue.kind === 'exchange' && this.unresolved.size) await this.resolveDue();
    // t0 is when the candle arrived; tStart when its turn came (a backfill burst queues candles).
    const tStart = performance.now();
    const history = this.o.tradeFromMs !== undefined && c.tsMs < this.o.tradeFromMs;
    const posBefore = venue.position();
    // The venue's bar work (paper: synchronous, done when onBar returns its promise; exchange: the
    // position/balance requests) overlaps the model: the prediction does not depend on it.
    const barDone = venue.onBar(c, history);
    const t1 = performance.now();
    const pred = predictor.onCandle(c);
    this.o.onBar?.(c, pred?.outputs);
    const t2 = performance.now();
    const { fills, accountError } = await this.barWork(barDone, c, history);
    const tBar = performance.now();
    // Fusion decides after the bar's fills, from the position held at the close (a no-trade band reads it).
    const held = venue.position();
    const heldEquity = venue.equity();
    const heldExposure = held && heldEquity > 0 ? ((held.side === 'long' ? held.qty : -held.qty) * c.close) / heldEquity : 0;
    const raw = history
      ? holdDecision(c.tsMs, 'history: warm-up only, no trading on past candles', symbol)
      : pred ? this.o.fuse(pred.outputs, { tsMs: c.tsMs, symbol, heldExposure }) : holdDecision(c.tsMs, 'warming up: features or window not ready', symbol);
    const decision: TradingDecision = { ...raw, tsMs: c.tsMs, symbol };
    const t3 = performance.now();
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
    const verdict = gate.check(decision, this.riskState(c, closeTs, pos, accountError));
    const t4 = performance.now();
    let target = targetFor(decision, verdict, pos);
    // On an exchange an order is sized against the position: none while it is unknown.
    if (target && venue.kind === 'exchange' && (accountError !== undefined || this.unresolved.size > 0)) {
      const why = accountError !== undefined ? `account state unknown (${accountError})` : `order(s) ${this.unresolved.ids().join(', ')} unresolved`;
      logger.warn({ symbol, candleTs: c.tsMs, target: target.side, kind: target.kind, reason: why }, 'order skipped: not sent');
      target = null;
    }
    const coid = target ? clientOrderId(this.o.runTag, symbol, c.tsMs, target.kind) : null;
    const equity = venue.equity();
    const req: OrderRequest | null = target && coid ? previewOrder(target, coid, symbol, pos, equity, c.close) : null;
    const settled = this.openIntents;
    this.openIntents = [];
    // Everything the rows hold is taken now: in a portfolio step other symbols run before the write.
    const killReason = this.killReason;
    const snapshot = JSON.stringify(gate.snapshot());
    const p: PreparedCandle = {
      c, t0, history, marks: [tStart, t1, t2, tBar, t3, t4], pred, decision, verdict, target: target && coid ? { ...target, clientOrderId: coid } : null, fills, killing,
      decisionId: 0, journalMs: 0, sendAt: NaN, execution: null, executionError: undefined,
      write: () => {
        journal.recordCandle(symbol, interval, c, this.now());
        for (const f of fills) journal.recordFill(f);
        for (const id of settled) {
          const filled = fills.some((f) => f.clientOrderId === id);
          journal.setOrderStatus(id, filled ? 'filled' : 'cancelled', this.now(), undefined, filled ? undefined : 'no change needed at the open');
        }
        if (fills.length || !samePosition(posBefore, pos)) journal.recordPosition(symbol, pos, c.tsMs, fills.length ? 'fill' : 'exchange');
        const decisionId = journal.recordDecision(symbol, decision, pred ? { ...pred.latency } : undefined);
        p.decisionId = decisionId;
        journal.recordVerdict(decisionId, verdict);
        journal.recordRiskLayers(decisionId, verdict.layers);
        journal.recordEquity(symbol, c.tsMs, equity, c.close, pos ? (pos.side === 'long' ? pos.qty : -pos.qty) : 0);
        if (target && coid && req) {
          journal.recordOrderIntent(req, decisionId, this.now());
          const jt: JournalTarget = { symbol, candleTs: c.tsMs, kind: target.kind, side: target.side, sizeFraction: target.sizeFraction, stopLossPct: target.stopLossPct, takeProfitPct: target.takeProfitPct };
          journal.recordTarget(coid, jt);
        }
        if (killing) journal.recordEvent('kill', { symbol, reason: killReason, candleTs: c.tsMs });
        journal.setMeta(SNAPSHOT_KEY(symbol), snapshot);
      },
    };
    return p;
  }

  /** Hands a prepared (and journaled) candle's order to the venue. */
  async sendPrepared(p: PreparedCandle): Promise<void> {
    const { venue } = this.o;
    const t = p.target;
    if (!t) return;
    p.sendAt = performance.now();
    this.stats.orders++;
    if (venue.kind === 'exchange') {
      const ex = await this.sendExchange(t, t.clientOrderId);
      // null: the request is still open (or its answer could not be journaled): it goes on in the background
      p.execution = ex === null ? 'sent' : ex.status === 'rejected' ? 'rejected' : ex.status === 'noop' ? 'noop' : 'sent';
      p.executionError = ex?.error;
    } else {
      const ex = await venue.execute(t, t.clientOrderId);
      p.execution = ex.status === 'rejected' ? 'rejected' : ex.status === 'noop' ? 'noop' : 'sent';
      p.executionError = ex.error;
      this.noteCall(ex.status !== 'rejected');
      this.openIntents.push(t.clientOrderId);
    }
  }

  /**
   * After the send: counters, latencies, the observer, the status line; the candle's result. Then,
   * off the decision path, the latency batch (when due) and the WAL checkpoint, unless
   * `callerWritesLatency`: a portfolio step writes every engine's batch in one transaction itself
   * (flushLatencyOf) and checkpoints once.
   */
  completeCandle(p: PreparedCandle, callerWritesLatency = false): CandleResult {
    const { venue, logger, symbol } = this.o;
    const { c, t0, pred, decision, verdict, target, fills, history } = p;
    const [tStart, t1, t2, tBar, t3, t4] = p.marks;
    const tEnd = performance.now();
    this.stats.candles++;
    this.stats.decisions++;
    this.stats.fills += fills.length;
    this.lastTs = c.tsMs;
    this.lastDecision = decision;
    this.lastVerdict = verdict;
    const e2e = Number.isNaN(p.sendAt) ? tEnd - t0 : p.sendAt - t0;
    const stages: [string, number][] = [
      ['queue', tStart - t0],
      ['predict', t2 - t1],
      ['fusion', t3 - tBar],
      // What the venue's bar work added after the model was done (0 on paper).
      ['bar_wait', tBar - t2],
      ['risk', t4 - t3],
      ['journal', p.journalMs],
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
    if (target) logger.info({ symbol, candleTs: c.tsMs, target: target.side, size: target.sizeFraction, kind: target.kind, clientOrderId: target.clientOrderId }, 'order sent');
    if (this.o.observer) {
      try {
        this.o.observer.onCandle({
          symbol, candle: c, decisionId: p.decisionId, decision, outputs: pred?.outputs, verdict, target,
          execution: p.execution, ...(p.executionError !== undefined ? { executionError: p.executionError } : {}), fills: fills.length, equity: venue.equity(), position: venue.position(),
          stages: history ? [] : stages, killEngaged: p.killing, killReason: this.killReason, history,
        });
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'engine observer failed (ignored)');
      }
    }
    const every = this.o.statusEvery ?? 0;
    if (every > 0 && this.stats.candles % every === 0) this.o.onStatus?.(this.statusLine());
    // Off the decision path (the order is out): latency rows in batches, and the WAL checkpoint.
    // Latencies are diagnostics, not state: kill -9 may lose the last batch, nothing a restart needs.
    if (!callerWritesLatency) {
      if (this.latencyDue()) this.flush();
      this.o.journal.checkpoint();
    }
    return { decision, verdict, target, decisionToSendMs: Number.isNaN(p.sendAt) ? NaN : e2e };
  }

  /**
   * Sends an exchange order and waits for its answer at most `orderStallMs`: a request still open
   * then goes on in the background (tracked in `unresolved`, settled into the journal when it
   * answers), so a stalled request never holds up the candles. Resolves to the answer, or null.
   */
  private async sendExchange(target: Target, coid: string): Promise<Execution | null> {
    const { venue, logger, symbol } = this.o;
    this.unresolved.sending(coid, this.now());
    const settled = venue
      .execute(target, coid)
      .then(
        (ex) => this.settleSend(coid, ex),
        (err: unknown) => this.settleSend(coid, { status: 'rejected', fills: [], error: (err as Error).message }),
      )
      .catch((err: unknown) => {
        logger.error({ symbol, clientOrderId: coid, err: (err as Error).message }, 'could not journal an order answer');
        return null;
      });
    this.unresolved.track(settled);
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<'stalled'>((r) => {
      timer = setTimeout(() => r('stalled'), this.o.orderStallMs ?? 2_000);
    });
    const first = await Promise.race([settled, stalled]);
    clearTimeout(timer);
    if (first === 'stalled') {
      logger.warn({ symbol, clientOrderId: coid, waitedMs: this.o.orderStallMs ?? 2_000 }, 'order request still open: candles keep flowing; no new entries or orders for the symbol until it resolves');
      return null;
    }
    return first;
  }

  private riskState(c: Candle, closeTs: number, pos: Position | undefined, accountError?: string): RiskState {
    const { portfolio, marketFeed, symbol } = this.o;
    const own = portfolio ? undefined : this.o.venue.trades();
    const recent = portfolio ? portfolio.tradeReturns(20) : own!.slice(-20).map((t) => t.returnPct);
    const lastTradeExitMs = portfolio ? portfolio.lastTradeExitMs() : own!.length ? own![own!.length - 1]!.exitMs : undefined;
    const okCalls = this.recentCalls.filter(Boolean).length;
    const onExchange = this.o.venue.kind === 'exchange' ? { unresolvedOrders: this.unresolved.size, ...(accountError !== undefined ? { accountError } : {}) } : {};
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
        ? { connected: live.connected, lastDataMs: closeTs - live.lastMessageAgeMs, ...(live.rateLimitRemaining !== undefined ? { rateLimitRemaining: live.rateLimitRemaining } : {}), ...onExchange }
        : { connected: true, lastDataMs: closeTs, ...onExchange },
      market: {
        lastBarMovePct: move,
        ...(live?.spreadPct !== undefined ? { spreadPct: live.spreadPct } : {}),
        ...(live?.depthNotional !== undefined ? { depthNotional: live.depthNotional } : {}),
      },
      strategy: { recentTradeReturns: recent, ...(lastTradeExitMs !== undefined ? { lastTradeExitMs } : {}) },
      system: {
        latencyMs: this.latency.median('decision_to_send') ?? 0,
        // at least MIN_CALLS in the denominator: two failures of a fresh engine are not "100 % failing"
        errorRate: this.recentCalls.length ? (this.recentCalls.length - okCalls) / Math.max(this.recentCalls.length, MIN_CALLS) : 0,
      },
    };
  }

  /** Writes latencies still held in memory (done in batches after the sends, and on shutdown). */
  flush(): void {
    if (this.pendingLatency.length) this.o.journal.transaction(() => this.writeLatency());
    else this.lastLatencyFlush = performance.now();
  }

  /** Latency rows held in memory, not written yet. */
  get latencyRowsHeld(): number {
    return this.pendingLatency.length;
  }

  /** Whether the latency rows held should be written now: 1,000 of them, or 5 s since the last write. */
  latencyDue(now = performance.now()): boolean {
    return this.pendingLatency.length >= LATENCY_BATCH_ROWS || now - this.lastLatencyFlush >= LATENCY_FLUSH_MS;
  }

  /** Writes the latency rows held (call inside a journal transaction: see flushLatencyOf). */
  writeLatency(): void {
    this.lastLatencyFlush = performance.now();
    const rows = this.pendingLatency;
    this.pendingLatency = [];
    for (const [s, ms] of rows) this.o.journal.recordLatency(s, ms);
  }

  /**
   * Graceful stop: waits for the candle in flight and for order requests still open, resolves
   * orders of unknown fate (after their recv window), optionally flattens, writes what is pending.
   * Never throws for the exchange: returns what went wrong (a flatten that failed), if anything.
   */
  async shutdown(options: { flatten?: boolean; reason?: string } = {}): Promise<string | undefined> {
    // Candles still queued are dropped (never journaled), so the candle in flight is the last one.
    this.stopping = true;
    await this.chain;
    const { journal, venue, symbol, logger } = this.o;
    let problem: string | undefined;
    if (venue.kind === 'exchange') {
      await this.unresolved.drain();
      const wait = this.unresolved.lastDeadline() - this.now();
      if (this.unresolved.size && wait > 0) {
        logger.info({ symbol, orders: this.unresolved.ids(), waitMs: wait }, 'waiting out the recv window of orders of unknown fate before stopping');
        await new Promise((r) => setTimeout(r, wait));
      }
      try {
        await this.resolveDue();
      } catch (err) {
        problem = `resolving orders of unknown fate failed: ${(err as Error).message}`;
      }
      if (this.unresolved.size) logger.error({ symbol, orders: this.unresolved.ids() }, 'orders still of unknown fate at exit: a restart looks them up');
    }
    if (options.flatten && (venue.position() || venue.kind === 'exchange') && Number.isFinite(this.lastTs)) {
      try {
        await this.flattenOnExit();
      } catch (err) {
        problem = `flatten on exit failed: ${(err as Error).message}`;
        logger.error({ symbol, err: (err as Error).message }, 'flatten on exit failed: the position stays open (its stop-loss / take-profit stay on the exchange)');
        try {
          journal.recordEvent('flatten-failed', { symbol, error: (err as Error).message });
        } catch {
          // the journal itself may be what failed; the problem is returned either way
        }
      }
    }
    this.o.predictor.dispose?.();
    try {
      this.flush();
      journal.recordEvent('shutdown', { symbol, reason: options.reason ?? 'stop', equity: venue.equity(), lastTs: this.lastTs, ...(problem ? { problem } : {}) });
    } catch (err) {
      // (a journal that cannot be written any more: a full disk) the message is the problem
      problem = problem ? `${problem}; ${(err as Error).message}` : (err as Error).message;
    }
    return problem;
  }

  /** Closes the position with one reduce-only order (journaled before it is sent). */
  private async flattenOnExit(): Promise<void> {
    const { journal, venue, symbol, logger } = this.o;
    // an exchange is asked first: the position may have changed since the last candle
    if (venue instanceof ExchangeVenue) await venue.refresh();
    if (venue.position()) {
      const coid = clientOrderId(this.o.runTag, symbol, this.lastTs, 'exit');
      const pos = venue.position()!;
      const target: Target = { side: 'flat', sizeFraction: 0, stopLossPct: 0, takeProfitPct: 0 };
      journal.transaction(() => {
        journal.recordOrderIntent({ symbol, side: pos.side === 'long' ? 'sell' : 'buy', type: 'market', qty: pos.qty, reduceOnly: true, clientOrderId: coid }, null, this.now());
        journal.recordTarget(coid, { symbol, candleTs: this.lastTs, kind: 'exit', ...target });
      });
      const fills = await venue.flattenNow(coid);
      this.stats.orders++;
      journal.transaction(() => {
        for (const f of fills) journal.recordFill(f);
        journal.setOrderStatus(coid, fills.length ? 'filled' : 'cancelled', this.now());
        journal.recordPosition(symbol, venue.position(), this.lastTs, 'flatten on exit');
      });
      logger.info({ symbol, fills: fills.length }, 'flattened on exit');
    }
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

