import { DataError, ConfigError } from '@task-agnostic/core';
import type { Balance, Candle, CandleColumns, Fill, FillReason, Liquidity, Position, Trade, TradingDecision } from '@task-agnostic/core';
import { parseAccountConfig } from './config.js';
import type { AccountConfig, AccountConfigInput } from './config.js';
import { marketFillPrice, roundQty, slippageRate } from './fill-model.js';
import { OrderBook } from './order-book.js';
import { badRow } from './rows.js';
import { FillLog, reasonCode, TradeLog } from './fill-log.js';
import type { OrderHost } from './order-book.js';
import type { Order, OrderRequest } from '@task-agnostic/core';

/** Funding rates of a perpetual: a payment of qty x price x rate at each tsMs (long pays when rate > 0). */
export interface FundingSeries {
  readonly tsMs: ArrayLike<number>;
  readonly rate: ArrayLike<number>;
}

export interface FundingPayment {
  readonly tsMs: number;
  readonly rate: number;
  readonly price: number;
  /** Signed position size the payment was charged on. */
  readonly qty: number;
  /** Quote paid (negative = received). */
  readonly payment: number;
}

/** Which rule decided bars where both the adverse level (stop or liquidation) and the take-profit were touched. */
export type IntrabarRule = 'worst_case' | 'lower_timeframe';

export interface IntrabarStats {
  readonly rule: IntrabarRule;
  /** Bars in which both the adverse level and the take-profit were inside the bar's range. */
  readonly ambiguousBars: number;
  /** ... of which the lower-timeframe candles decided the order of events. */
  readonly resolvedByLowerTimeframe: number;
  /** ... of which the adverse event was assumed first (no lower-timeframe candles, or they did not cover the bar). */
  readonly resolvedWorstCase: number;
  /** Lower-timeframe candles that were themselves ambiguous (adverse assumed first inside them). */
  readonly ambiguousLowerTimeframeCandles: number;
}

export interface SimulatedAccountOptions {
  /** Funding rates, sorted by time; each is charged at the first bar whose open time is >= its tsMs. */
  readonly funding?: FundingSeries;
  /** Lower-timeframe candles replayed to order stop and take-profit inside an ambiguous bar. */
  readonly lowerTimeframe?: CandleColumns;
  /** Length of one bar in ms (needed to find a bar's lower-timeframe candles; else inferred from timestamps). */
  readonly barMs?: number;
}

const TINY = 1e-12;

/**
 * The simulated venue: one wallet, one symbol, isolated margin, one fill model. The backtest engine
 * and the paper trader drive it the same way: `onBar(candle)` for each closed bar (fills pending
 * orders at its open, then stops / take-profits / liquidation inside it), and `submitDecision()` /
 * `submitTarget()` / `placeOrder()` after the bar closed. Same decisions over the same candles give
 * the same fills in both.
 *
 * Order of events inside one bar: funding due at its open; a gap through the stop, take-profit or
 * liquidation price at the open (filled at the open, i.e. worse than the stop); pending targets and
 * market orders at the open (next_open timing); resting limit orders; then stop / take-profit /
 * liquidation against the bar's high and low (both touched: the adverse one first, unless
 * lower-timeframe candles are given and decide it).
 */
export class SimulatedAccount implements OrderHost {
  readonly config: AccountConfig;
  /**
   * Columnar fill and trade records: `fillLog.length` and `fillLog.at(i)` read new fills without
   * building every Fill object (`fills` / `trades` build and cache them all).
   */
  readonly fillLog: FillLog;
  readonly tradeLog: TradeLog;
  readonly fundingPayments: FundingPayment[] = [];
  feesPaid = 0.5;
  fundingPaid = 0.5;
  tradedNotional = 0.5;
  liquidations = 0;
  /** Targets whose size was cut to what the margin allows. */
  clippedTargets = 0;

  private walletBalance = 0.5;
  private q = 0.5;
  private entry = 0.5;
  private entryFees = 0.5;
  private fundingAcc = 0.5;
  private openedMs = 0.5;
  private sl = 0.5;
  private tp = 0.5;
  private liq = 0.5;
  private bk = 0.5;
  private lastTs = -Infinity;
  private lastClose = NaN;
  private lastHigh = NaN;
  // The bar being processed, kept in fields so the hot calls pass no doubles (V8 boxes the double
  // arguments of calls it does not inline, which fills the young generation in a 1M-bar loop).
  private bTs = 0.5;
  private bO = 0.5;
  private bH = 0.5;
  private bL = 0.5;
  private bC = 0.5;
  // The reference of a target being executed: time and price.
  private xTs = 0.5;
  private xRef = 0.5;
  private sigSl = 0.5;
  /** The standing target (see submitTarget) and whether the position still reflects it. */
  private tFrac = 0.5;
  private tSl = 0.5;
  private tTp = 0.5;
  private targetIntact = false;
  /** @internal Orders resting or pending in the book (kept here so a bar without orders costs one compare). */
  activeOrders = 0;
  /** First adverse level of the open position (see updateAdverse) and whether it is the stop. */
  private adv = 0.5;
  private bandLo = 0.5;
  private bandHi = 0.5;
  private slFirst = false;
  private sigTp = 0.5;
  private lastLow = NaN;
  private barMs = 0.5;
  private readonly inferBarMs: boolean;
  private pending = false;
  private pFrac = 0.5;
  private pSl = 0.5;
  private pTp = 0.5;
  private readonly takerRate: number;
  private readonly makerRate: number;
  private readonly lev: number;
  private readonly invLev: number;
  private readonly mmr: number;
  private readonly nextOpen: boolean;
  private readonly fTs: ArrayLike<number> | null;
  private readonly fRate: ArrayLike<number> | null;
  private readonly fLen: number;
  private fCur = 0;
  private readonly ltf: CandleColumns | null;
  private ltfCur = 0;
  private ambiguous = 0;
  private ltfResolved = 0;
  private worstCase = 0;
  private ltfAmbiguous = 0;
  private readonly book: OrderBook;
  /** Slippage of the fixed and spread models (constant); NaN for the volatility model. */
  private readonly constSlip: number;
  private readonly constMaxFrac: number;
  private readonly qtyStep: number;
  private readonly rebalanceThreshold: number;

  constructor(config: AccountConfigInput | AccountConfig = {}, options: SimulatedAccountOptions = {}) {
    this.config = parseAccountConfig(config);
    // Every float field is declared with 0.5 so V8 gives it a double representation from the start;
    // a field that starts as a small integer and later holds a fraction changes the object's map,
    // which deoptimises the hot loop. The real initial values are set here.
    this.feesPaid = 0;
    this.fundingPaid = 0;
    this.tradedNotional = 0;
    this.q = 0;
    this.entry = 0;
    this.entryFees = 0;
    this.fundingAcc = 0;
    this.openedMs = 0;
    this.sl = 0;
    this.tp = 0;
    this.liq = 0;
    this.bk = 0;
    this.pFrac = 0;
    this.pSl = 0;
    this.pTp = 0;
    this.walletBalance = this.config.initialEquity;
    this.takerRate = this.config.takerFeeRate;
    this.makerRate = this.config.makerFeeRate;
    this.lev = this.config.leverage;
    this.invLev = 1 / this.lev;
    this.mmr = this.config.maintenanceMarginRate;
    this.nextOpen = this.config.fillTiming === 'next_open';
    if (this.mmr >= 1 / this.lev) {
      throw new ConfigError(`maintenanceMarginRate ${this.mmr} must be below 1/leverage (${1 / this.lev})`, 'maintenanceMarginRate');
    }
    const f = options.funding;
    if (f) {
      if (f.tsMs.length !== f.rate.length) throw new DataError(`funding: tsMs has ${f.tsMs.length} rows but rate has ${f.rate.length}`);
      for (let i = 0; i < f.tsMs.length; i++) {
        if (!Number.isFinite(f.tsMs[i]!) || !Number.isFinite(f.rate[i]!)) throw new DataError(`funding: row ${i} is not finite`);
        if (i > 0 && f.tsMs[i]! <= f.tsMs[i - 1]!) throw new DataError(`funding: tsMs not strictly increasing at row ${i}`);
      }
    }
    this.fTs = f ? f.tsMs : null;
    this.fRate = f ? f.rate : null;
    this.fLen = f ? f.tsMs.length : 0;
    this.ltf = options.lowerTimeframe ?? null;
    if (options.barMs !== undefined && !(options.barMs > 0)) throw new ConfigError(`barMs must be > 0, got ${options.barMs}`, 'barMs');
    this.barMs = options.barMs ?? 0;
    this.inferBarMs = options.barMs === undefined;
    this.book = new OrderBook(this, this.config.symbol);
    this.fillLog = new FillLog(this.config.symbol);
    this.tradeLog = new TradeLog(this.config.symbol);
    this.constSlip = this.config.slippage.model === 'volatility' ? NaN : slippageRate(this.config.slippage, NaN);
    this.constMaxFrac = this.lev / ((1 + this.constSlip) * (1 + this.lev * this.takerRate));
    this.qtyStep = this.config.qtyStep;
    this.rebalanceThreshold = this.config.rebalanceThreshold;
  }

  /** Every fill, oldest first. */
  get fills(): Fill[] {
    return this.fillLog.toArray();
  }
  /** Every closed (or partly closed) round trip, oldest first. */
  get trades(): Trade[] {
    return this.tradeLog.toArray();
  }

  // ---------------------------------------------------------------- reading the state

  /** Wallet balance plus unrealised PnL at the last close. */
  get equity(): number {
    return this.q === 0 ? this.walletBalance : this.walletBalance + this.q * (this.lastClose - this.entry);
  }
  /** Signed position size in base units (+ long, - short, 0 flat). */
  get positionQty(): number {
    return this.q;
  }
  get wallet(): number {
    return this.walletBalance;
  }
  get lastPrice(): number {
    return this.lastClose;
  }
  /** Open time of the last bar seen (-Infinity before the first). */
  get lastBarTs(): number {
    return this.lastTs;
  }

  /** The sim clock: the close time of the last bar (its open + bar length). */
  nowMs(): number {
    return Number.isFinite(this.lastTs) ? this.lastTs + this.barMs : 0;
  }

  position(): Position | undefined {
    if (this.q === 0) return undefined;
    return {
      symbol: this.config.symbol,
      side: this.q > 0 ? 'long' : 'short',
      qty: Math.abs(this.q),
      entryPrice: this.entry,
      leverage: this.lev,
      ...(this.sl > 0 ? { stopLossPrice: this.sl } : {}),
      ...(this.tp > 0 ? { takeProfitPrice: this.tp } : {}),
      liquidationPrice: this.liq,
      unrealizedPnl: this.q * (this.lastClose - this.entry),
      openedMs: this.openedMs,
    };
  }

  balance(): Balance {
    const eq = this.equity;
    return { equity: eq, available: eq - (Math.abs(this.q) * this.entry) / this.lev, currency: this.config.currency };
  }

  intrabarStats(): IntrabarStats {
    return {
      rule: this.ltf ? 'lower_timeframe' : 'worst_case',
      ambiguousBars: this.ambiguous,
      resolvedByLowerTimeframe: this.ltfResolved,
      resolvedWorstCase: this.worstCase,
      ambiguousLowerTimeframeCandles: this.ltfAmbiguous,
    };
  }

  // ---------------------------------------------------------------- driving it

  /** Feeds one closed bar; returns the fills it caused. Checks the bar first (DataError if malformed). */
  onBar(candle: Candle): Fill[] {
    const before = this.fillLog.length;
    this.onBarValues(candle.tsMs, candle.open, candle.high, candle.low, candle.close);
    const out: Fill[] = [];
    for (let i = before; i < this.fillLog.length; i++) out.push(this.fillLog.at(i));
    return out;
  }

  /** onBar without the candle object (no allocation). */
  onBarValues(tsMs: number, open: number, high: number, low: number, close: number): void {
    if (!(tsMs > this.lastTs)) throw new DataError(`bar at ${tsMs} is not after the previous bar at ${this.lastTs}`);
    if (!(low > 0) || !(high >= low) || !(open >= low && open <= high) || !(close >= low && close <= high) || !Number.isFinite(high)) {
      throw new DataError(`bar at ${tsMs} is malformed: open ${open} high ${high} low ${low} close ${close}`);
    }
    this.bTs = tsMs;
    this.bO = open;
    this.bH = high;
    this.bL = low;
    this.bC = close;
    this.step();
  }

  /** @internal The engine's hot path: row t of columns the caller has validated. */
  stepRow(c: CandleColumns, t: number): void {
    this.bTs = c.tsMs[t]!;
    this.bO = c.open[t]!;
    this.bH = c.high[t]!;
    this.bL = c.low[t]!;
    this.bC = c.close[t]!;
    this.step();
  }

  private step(): void {
    if (this.inferBarMs && this.lastTs > -Infinity) this.barMs = this.bTs - this.lastTs;
    if (this.fLen !== 0) this.applyFunding();
    if (this.q !== 0 && (this.bL <= this.bandLo || this.bH >= this.bandHi)) this.checkOpen();
    if (this.pending) {
      this.pending = false;
      this.xTs = this.bTs;
      this.xRef = this.bO;
      this.executeTarget();
    }
    if (this.activeOrders !== 0) this.book.onBar(this.bTs, this.bO, this.bH, this.bL);
    if (this.q !== 0 && (this.bL <= this.bandLo || this.bH >= this.bandHi)) this.checkRange(true);
    this.lastTs = this.bTs;
    this.lastClose = this.bC;
    if (this.constSlip !== this.constSlip) {
      // only the volatility slippage model reads the last bar's range
      this.lastHigh = this.bH;
      this.lastLow = this.bL;
    }
  }

  /**
   * A decision taken at the close of the last bar: a target of side x sizeFraction of equity, with
   * stop-loss / take-profit distances from the entry. action 'hold' keeps the position unchanged
   * (config holdMeans 'keep', the default).
   */
  submitDecision(d: TradingDecision): void {
    if (!Number.isFinite(d.sizeFraction) || d.sizeFraction < 0) throw new DataError(`decision.sizeFraction must be a finite number >= 0, got ${d.sizeFraction}`);
    if (!Number.isFinite(d.stopLossPct) || d.stopLossPct < 0 || d.stopLossPct >= 1) throw new DataError(`decision.stopLossPct must be in [0, 1), got ${d.stopLossPct}`);
    if (!Number.isFinite(d.takeProfitPct) || d.takeProfitPct < 0) throw new DataError(`decision.takeProfitPct must be >= 0, got ${d.takeProfitPct}`);
    if (d.action === 'hold' && this.config.holdMeans === 'keep') return;
    const f = d.side === 'long' ? d.sizeFraction : d.side === 'short' ? -d.sizeFraction : d.side === 'flat' ? 0 : NaN;
    if (Number.isNaN(f)) throw new DataError(`decision.side must be long, short or flat, got ${String(d.side)}`);
    this.submitTarget(f, d.stopLossPct, d.takeProfitPct);
  }

  /**
   * Target position = signedFraction x equity (notional), decided at the last close. Fills at the
   * next bar's open (next_open) or now at the last close (same_close). A newer target replaces a
   * pending one. Repeating the target last carried out (same fraction, stop and take-profit) while
   * nothing else (a stop, a take-profit, a liquidation, an order) has changed the position since is
   * a no-op: positions are not re-sized for equity drift by repeating a decision.
   */
  submitTarget(signedFraction: number, stopLossPct = 0, takeProfitPct = 0): void {
    this.pFrac = signedFraction;
    this.pSl = stopLossPct;
    this.pTp = takeProfitPct;
    this.submitPending();
  }

  /** pFrac / pSl / pTp are set: drop them if they repeat the standing target, else queue or execute. */
  private submitPending(): void {
    if (this.targetIntact && this.pFrac === this.tFrac && this.pSl === this.tSl && this.pTp === this.tTp) {
      this.pending = false;
      return;
    }
    if (this.nextOpen) {
      this.pending = true;
      return;
    }
    if (Number.isNaN(this.lastClose)) throw new DataError('same_close fill before any bar was seen: call onBar first');
    this.xTs = this.nowMs();
    this.xRef = this.lastClose;
    this.executeTarget();
  }

  /** @internal Stop / take-profit pct used by submitSignalRow (the precomputed-signal path). */
  setSignalLevels(stopLossPct: number, takeProfitPct: number): void {
    this.sigSl = stopLossPct;
    this.sigTp = takeProfitPct;
  }

  /**
   * @internal The precomputed-signal path: submitTarget(signal[t]) unless it is NaN. Takes the
   * array and index rather than the value so no double crosses a call boundary (see bTs).
   */
  submitSignalRow(signal: ArrayLike<number>, t: number): void {
    const s = signal[t]!;
    if (s !== s) return;
    if (s - s !== 0) throw new DataError(`signal[${t}] is infinite`);
    this.pFrac = s;
    this.pSl = this.sigSl;
    this.pTp = this.sigTp;
    this.submitPending();
  }

  /**
   * @internal The precomputed-signal loop over rows [0, n) (engine.runSignalLoop): the loop lives
   * here so the step, the signal and the equity write run on this object's fields without calls.
   * A malformed row throws a DataError naming it. Returns bars that closed with a position.
   */
  runSignalRows(c: CandleColumns, signal: ArrayLike<number>, equity: Float64Array): number {
    const { tsMs, open, high, low, close } = c;
    const n = c.length;
    let exposed = 0;
    let prevTs = -Infinity;
    for (let t = 0; t < n; t++) {
      const o = open[t]!;
      const h = high[t]!;
      const l = low[t]!;
      const cl = close[t]!;
      const ts = tsMs[t]!;
      // the row check of validateColumns, made here so the candles are read once
      if (!(l > 0 && o >= l && cl >= l && o <= h && cl <= h && h - h === 0 && ts > prevTs && ts - ts === 0)) badRow(c, t);
      prevTs = ts;
      this.bTs = ts;
      this.bO = o;
      this.bH = h;
      this.bL = l;
      this.bC = cl;
      this.step();
      const s = signal[t]!;
      if (s === s) {
        if (s - s !== 0) throw new DataError(`signal[${t}] is infinite`);
        this.pFrac = s;
        this.pSl = this.sigSl;
        this.pTp = this.sigTp;
        this.submitPending();
      }
      const q = this.q;
      if (q === 0) equity[t] = this.walletBalance;
      else {
        equity[t] = this.walletBalance + q * (cl - this.entry);
        exposed++;
      }
    }
    return exposed;
  }

  /** @internal out[i] = equity now (no double returned across a call). */
  writeEquity(out: Float64Array, i: number): void {
    out[i] = this.q === 0 ? this.walletBalance : this.walletBalance + this.q * (this.lastClose - this.entry);
  }

  hasPosition(): boolean {
    return this.q !== 0;
  }

  /** Closes the whole position at the last close (market, taker fee and slippage). */
  flatten(reason: FillReason = 'flatten'): void {
    if (this.q === 0) return;
    this.pending = false;
    this.fill(this.nowMs(), this.q > 0 ? -1 : 1, Math.abs(this.q), this.lastClose, 'taker', reason, undefined);
  }

  // ---------------------------------------------------------------- Exchange-style orders

  placeOrder(req: OrderRequest): Order {
    return this.book.place(req, this.nextOpen);
  }
  cancelOrder(orderId: string): void {
    this.book.cancel(orderId);
  }
  findOrder(clientOrderId: string): Order | undefined {
    return this.book.find(clientOrderId);
  }
  openOrders(): Order[] {
    return this.book.open();
  }

  // ---------------------------------------------------------------- the fill model

  /** @internal Slippage rate for a market fill now. */
  currentSlippage(): number {
    const c = this.constSlip;
    return c === c ? c : slippageRate(this.config.slippage, (this.lastHigh - this.lastLow) / this.lastClose);
  }

  private applyFunding(): void {
    const ts = this.bTs;
    const o = this.bO;
    const fTs = this.fTs!;
    const fRate = this.fRate!;
    while (this.fCur < this.fLen && fTs[this.fCur]! <= ts) {
      const eventTs = fTs[this.fCur]!;
      if (eventTs > this.lastTs && this.q !== 0) {
        const rate = fRate[this.fCur]!;
        const payment = this.q * o * rate;
        this.walletBalance -= payment;
        this.fundingAcc += payment;
        this.fundingPaid += payment;
        this.fundingPayments.push({ tsMs: eventTs, rate, price: o, qty: this.q, payment });
      }
      this.fCur++;
    }
  }

  /** A gap through a level at the open fills at the open (worse than the stop; better than the target). */
  private checkOpen(): void {
    const o = this.bO;
    const s = this.q > 0 ? 1 : -1;
    // adv is the first adverse level (stop or liquidation); nothing happens between it and the target
    if (s * (o - this.adv) > 0 && !(this.tp > 0 && s * (o - this.tp) >= 0)) return;
    const ts = this.bTs;
    if (s * (o - this.liq) <= 0) this.liquidate(ts);
    else if (this.sl > 0 && s * (o - this.sl) <= 0) this.fill(ts, -s, Math.abs(this.q), o, 'taker', 'stop_loss', undefined);
    else if (this.tp > 0 && s * (o - this.tp) >= 0) this.fill(ts, -s, Math.abs(this.q), o, 'taker', 'take_profit', undefined);
  }

  /** Recomputes the first adverse level after the entry, stop or liquidation price changed. */
  private updateAdverse(): void {
    const long = this.q > 0;
    this.slFirst = this.sl > 0 && (long ? this.sl > this.liq : this.sl < this.liq);
    this.adv = this.slFirst ? this.sl : this.liq;
    // A bar strictly inside (bandLo, bandHi) touches no level: the checks can be skipped.
    this.bandLo = long ? this.adv : this.tp > 0 ? this.tp : -Infinity;
    this.bandHi = long ? (this.tp > 0 ? this.tp : Infinity) : this.adv;
  }

  /** Stop / take-profit / liquidation against a bar's range; replay = may use lower-timeframe candles. */
  private checkRange(replay: boolean): void {
    const ts = this.bTs;
    const h = this.bH;
    const l = this.bL;
    const long = this.q > 0;
    // The first adverse level price reaches: the stop when it lies before the liquidation price.
    const slFirst = this.slFirst;
    const adverseHit = long ? l <= this.adv : h >= this.adv;
    const tpHit = this.tp > 0 && (long ? h >= this.tp : l <= this.tp);
    if (adverseHit && tpHit) {
      if (replay) {
        this.ambiguous++;
        if (this.ltf !== null && this.replayLowerTimeframe()) {
          this.ltfResolved++;
          return;
        }
        this.worstCase++;
      } else {
        this.ltfAmbiguous++;
      }
      this.adverseEvent(ts, slFirst);
    } else if (adverseHit) {
      this.adverseEvent(ts, slFirst);
    } else if (tpHit) {
      this.fill(ts, long ? -1 : 1, Math.abs(this.q), this.tp, 'taker', 'take_profit', undefined);
    }
  }

  private adverseEvent(ts: number, slFirst: boolean): void {
    if (slFirst) this.fill(ts, this.q > 0 ? -1 : 1, Math.abs(this.q), this.sl, 'taker', 'stop_loss', undefined);
    else this.liquidate(ts);
  }

  /** Replays the bar's lower-timeframe candles; true when they closed the position. */
  private replayLowerTimeframe(): boolean {
    const c = this.ltf!;
    const n = c.length;
    const ts = this.bTs;
    const o = this.bO;
    const h = this.bH;
    const l = this.bL;
    const end = ts + this.barMs;
    while (this.ltfCur < n && c.tsMs[this.ltfCur]! < ts) this.ltfCur++;
    for (let j = this.ltfCur; j < n && c.tsMs[j]! < end && this.q !== 0; j++) {
      this.bTs = c.tsMs[j]!;
      this.bO = c.open[j]!;
      this.bH = c.high[j]!;
      this.bL = c.low[j]!;
      this.checkOpen();
      if (this.q !== 0) this.checkRange(false);
    }
    this.bTs = ts;
    this.bO = o;
    this.bH = h;
    this.bL = l;
    return this.q === 0;
  }

  private liquidate(ts: number): void {
    this.liquidations++;
    this.fill(ts, this.q > 0 ? -1 : 1, Math.abs(this.q), this.bk, 'taker', 'liquidation', undefined);
  }

  /**
   * Target qty = frac x equity / ref, equity marked at `ref` before this rebalance's own fees.
   * A reversal is a close then an open; the open is sized on that same equity.
   */
  private executeTarget(): void {
    const ts = this.xTs;
    const ref = this.xRef;
    const frac = this.pFrac;
    const slPct = this.pSl;
    const tpPct = this.pTp;
    const eq = this.q === 0 ? this.walletBalance : this.walletBalance + this.q * (ref - this.entry);
    // Margin plus fee of the fill (both on the slipped price) must fit in equity:
    // N(1 + slip)(1/L + fee) <= eq  <=>  N / eq <= L / ((1 + slip)(1 + L fee)).
    const cm = this.constMaxFrac;
    const maxFrac = eq > 0 ? (cm === cm ? cm : this.lev / ((1 + this.currentSlippage()) * (1 + this.lev * this.takerRate))) : 0;
    let f = frac;
    if (f > maxFrac) {
      f = maxFrac;
      this.clippedTargets++;
    } else if (f < -maxFrac) {
      f = -maxFrac;
      this.clippedTargets++;
    }
    const raw = (f * eq) / ref;
    const target = this.qtyStep > 0 ? roundQty(raw, this.qtyStep) : raw;
    const q = this.q;
    if (target === q || (q !== 0 && (q > 0) === (target > 0) && target !== 0 && Math.abs(target - q) <= this.rebalanceThreshold * Math.abs(target))) {
      this.markTargetIntact(frac, slPct, tpPct);
      return;
    }
    if (q !== 0 && (target === 0 || (q > 0) !== (target > 0))) {
      this.fill(ts, q > 0 ? -1 : 1, Math.abs(q), ref, 'taker', 'signal', undefined);
    }
    const d = target - this.q;
    if (d !== 0) this.fill(ts, d > 0 ? 1 : -1, Math.abs(d), ref, 'taker', 'signal', undefined);
    if (this.q !== 0) this.setLevelsPct(slPct, tpPct);
    this.markTargetIntact(frac, slPct, tpPct);
  }

  /** The standing target: what the position now reflects, until another fill changes it. */
  private markTargetIntact(frac: number, slPct: number, tpPct: number): void {
    this.tFrac = frac;
    this.tSl = slPct;
    this.tTp = tpPct;
    this.targetIntact = true;
  }

  private setLevelsPct(slPct: number, tpPct: number): void {
    const s = this.q > 0 ? 1 : -1;
    this.sl = slPct > 0 ? this.entry * (1 - s * slPct) : 0;
    this.tp = tpPct > 0 ? this.entry * (1 + s * tpPct) : 0;
    this.updateAdverse();
  }

  /** @internal Sets absolute stop / take-profit prices on the open position (0 = none, NaN = keep). */
  setLevels(stopLossPrice: number, takeProfitPrice: number): void {
    if (this.q === 0) return;
    if (!Number.isNaN(stopLossPrice)) this.sl = stopLossPrice;
    if (!Number.isNaN(takeProfitPrice)) this.tp = takeProfitPrice;
    this.updateAdverse();
  }

  /** @internal Equity if the position were marked at `price`. */
  equityAt(price: number): number {
    return this.q === 0 ? this.walletBalance : this.walletBalance + this.q * (price - this.entry);
  }

  /**
   * @internal One fill that opens, increases or reduces the position (never crosses zero: callers
   * split a reversal into a close and an open). Returns the fill price.
   */
  fill(ts: number, dir: number, qtyAbs: number, ref: number, liquidity: Liquidity, reason: FillReason, order: { id: string; clientOrderId: string } | undefined): number {
    const price = reason === 'liquidation' || liquidity === 'maker' ? ref : marketFillPrice(ref, dir, this.currentSlippage());
    const fee = qtyAbs * price * (liquidity === 'maker' ? this.makerRate : this.takerRate);
    this.targetIntact = false;
    const code = reasonCode(reason);
    this.tradedNotional += qtyAbs * price;
    this.feesPaid += fee;
    this.walletBalance -= fee;
    const q = this.q;
    if (q === 0 || (q > 0) === (dir > 0)) {
      const aq = Math.abs(q);
      if (q === 0) {
        this.openedMs = ts;
        this.entryFees = 0;
        this.fundingAcc = 0;
      }
      this.entry = q === 0 ? price : (aq * this.entry + qtyAbs * price) / (aq + qtyAbs);
      this.entryFees += fee;
      this.q = q + dir * qtyAbs;
      // liquidationPrice / bankruptcyPrice of fill-model.ts, with 1/leverage precomputed
      const e = this.entry;
      if (this.q > 0) {
        this.liq = e * (1 - this.invLev + this.mmr);
        this.bk = e * (1 - this.invLev);
      } else {
        this.liq = e * (1 + this.invLev - this.mmr);
        this.bk = e * (1 + this.invLev);
      }
      this.updateAdverse();
    } else {
      const aq = Math.abs(q);
      const s = q > 0 ? 1 : -1;
      const share = qtyAbs === aq ? 1 : qtyAbs / aq;
      const gross = qtyAbs * (price - this.entry) * s;
      this.walletBalance += gross;
      const ef = this.entryFees * share;
      const fu = this.fundingAcc * share;
      this.entryFees -= ef;
      this.fundingAcc -= fu;
      this.tradeLog.push(s > 0, qtyAbs, this.openedMs, this.entry, ts, price, code, gross - fee - ef - fu, fee + ef, fu);
      const rest = q + dir * qtyAbs;
      if (Math.abs(rest) <= TINY * aq) {
        this.q = 0;
        this.entry = 0;
        this.sl = 0;
        this.tp = 0;
        this.liq = 0;
        this.bk = 0;
      } else {
        this.q = rest;
      }
    }
    this.fillLog.push(ts, dir > 0, qtyAbs, price, fee, liquidity === 'maker', code, order);
    return price;
  }
}
