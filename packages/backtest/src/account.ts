import { DataError, ConfigError } from '@task-agnostic/core';
import type { Candle, CandleColumns, Fill, FillReason, TradingDecision } from '@task-agnostic/core';
import type { AccountConfig, AccountConfigInput } from './config.js';
import { roundQty } from './fill-model.js';
import { PositionLedger } from './ledger.js';
import { OrderBook } from './order-book.js';
import { badRow } from './rows.js';
import type { FundingPayment, IntrabarStats, SimulatedAccountOptions } from './account-types.js';
import type { OrderHost } from './order-book.js';
import type { Order, OrderRequest } from '@task-agnostic/core';

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
export class SimulatedAccount extends PositionLedger implements OrderHost {
  readonly fundingPayments: FundingPayment[] = [];
  liquidations = 0;
  /** Targets whose size was cut to what the margin allows. */
  clippedTargets = 0;
  /** @internal Orders resting or pending in the book (kept here so a bar without orders costs one compare). */
  activeOrders = 0;
  /**
   * @internal Set by a PortfolioAccount before each time step: the other symbols' share of the one
   * wallet (their equity minus the initial equity each ledger starts from) and the margin their
   * positions hold. A target is sized on the portfolio's equity and fits in what the others leave.
   * Both stay 0 for a lone account (sizing exactly as before).
   */
  otherEquity = 0.5;
  otherMargin = 0.5;

  private lastTs = -Infinity;
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
  /** Stop / take-profit pct of the precomputed-signal path. */
  private sigSl = 0.5;
  private sigTp = 0.5;
  /** The standing target (see submitTarget); `targetIntact` says whether the position reflects it. */
  private tFrac = 0.5;
  private tSl = 0.5;
  private tTp = 0.5;
  /** The pending target (next_open timing). */
  private pending = false;
  private pFrac = 0.5;
  private pSl = 0.5;
  private pTp = 0.5;
  private barMs = 0.5;
  private readonly inferBarMs: boolean;
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
  private readonly constMaxFrac: number;
  private readonly qtyStep: number;
  private readonly rebalanceThreshold: number;

  constructor(config: AccountConfigInput | AccountConfig = {}, options: SimulatedAccountOptions = {}) {
    super(config);
    this.pFrac = 0;
    this.pSl = 0;
    this.pTp = 0;
    this.otherEquity = 0;
    this.otherMargin = 0;
    this.nextOpen = this.config.fillTiming === 'next_open';
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
    this.constMaxFrac = this.lev / ((1 + this.constSlip) * (1 + this.lev * this.takerRate));
    this.qtyStep = this.config.qtyStep;
    this.rebalanceThreshold = this.config.rebalanceThreshold;
  }

  // ---------------------------------------------------------------- reading the state

  /** Open time of the last bar seen (-Infinity before the first). */
  get lastBarTs(): number {
    return this.lastTs;
  }

  /** The sim clock: the close time of the last bar (its open + bar length). */
  nowMs(): number {
    return Number.isFinite(this.lastTs) ? this.lastTs + this.barMs : 0;
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
    const eq = (this.q === 0 ? this.walletBalance : this.walletBalance + this.q * (ref - this.entry)) + this.otherEquity;
    // Margin plus fee of the fill (both on the slipped price) must fit in equity:
    // N(1 + slip)(1/L + fee) <= eq  <=>  N / eq <= L / ((1 + slip)(1 + L fee)).
    // In a portfolio it must fit in what the other symbols' margin leaves: eq - otherMargin.
    const cm = this.constMaxFrac;
    let maxFrac = eq > 0 ? (cm === cm ? cm : this.lev / ((1 + this.currentSlippage()) * (1 + this.lev * this.takerRate))) : 0;
    if (this.otherMargin !== 0 && eq > 0) maxFrac *= Math.max(0, eq - this.otherMargin) / eq;
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

}
