import { ConfigError } from '@task-agnostic/core';
import type { Balance, Fill, FillReason, Liquidity, Position, Trade } from '@task-agnostic/core';
import { parseAccountConfig } from './config.js';
import type { AccountConfig, AccountConfigInput } from './config.js';
import { marketFillPrice, slippageRate } from './fill-model.js';
import { FillLog, reasonCode, TradeLog } from './fill-log.js';

const TINY = 1e-12;

/**
 * The wallet and position book of the simulated account: what one fill does to cash, position,
 * average entry, stop / take-profit / liquidation levels and the fill and trade records. The
 * SimulatedAccount (bars, intrabar rules, targets, orders, funding) extends it; this is the part
 * both fill paths (targets and Exchange-style orders) share.
 */
export abstract class PositionLedger {
  readonly config: AccountConfig;
  /**
   * Columnar fill and trade records: `fillLog.length` and `fillLog.at(i)` read new fills without
   * building every Fill object (`fills` / `trades` build and cache them all).
   */
  readonly fillLog: FillLog;
  readonly tradeLog: TradeLog;
  feesPaid = 0.5;
  fundingPaid = 0.5;
  tradedNotional = 0.5;

  // Every float field is declared with 0.5 so V8 gives it a double representation from the start
  // (a field that starts as a small integer and later holds a fraction changes the object's map,
  // which deoptimises the hot loop); the constructor sets the real initial values.
  protected walletBalance = 0.5;
  /** Signed position size. */
  protected q = 0.5;
  protected entry = 0.5;
  /** Entry fees and funding not yet attributed to a closed trade. */
  protected entryFees = 0.5;
  protected fundingAcc = 0.5;
  protected openedMs = 0.5;
  protected sl = 0.5;
  protected tp = 0.5;
  protected liq = 0.5;
  protected bk = 0.5;
  /** First adverse level of the open position (see updateAdverse) and whether it is the stop. */
  protected adv = 0.5;
  protected slFirst = false;
  /** A bar strictly inside (bandLo, bandHi) touches no level. */
  protected bandLo = 0.5;
  protected bandHi = 0.5;
  /** Whether the position still reflects the last target carried out (any fill clears it). */
  protected targetIntact = false;
  protected lastClose = NaN;
  protected lastHigh = NaN;
  protected lastLow = NaN;
  protected readonly takerRate: number;
  protected readonly makerRate: number;
  protected readonly lev: number;
  protected readonly invLev: number;
  protected readonly mmr: number;
  /** Slippage of the fixed and spread models (constant); NaN for the volatility model. */
  protected readonly constSlip: number;

  constructor(config: AccountConfigInput | AccountConfig) {
    this.config = parseAccountConfig(config);
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
    this.walletBalance = this.config.initialEquity;
    this.takerRate = this.config.takerFeeRate;
    this.makerRate = this.config.makerFeeRate;
    this.lev = this.config.leverage;
    this.invLev = 1 / this.lev;
    this.mmr = this.config.maintenanceMarginRate;
    if (this.mmr >= 1 / this.lev) {
      throw new ConfigError(`maintenanceMarginRate ${this.mmr} must be below 1/leverage (${1 / this.lev})`, 'maintenanceMarginRate');
    }
    this.fillLog = new FillLog(this.config.symbol);
    this.tradeLog = new TradeLog(this.config.symbol);
    this.constSlip = this.config.slippage.model === 'volatility' ? NaN : slippageRate(this.config.slippage, NaN);
  }

  /** Every fill, oldest first. */
  get fills(): Fill[] {
    return this.fillLog.toArray();
  }

  /** Every closed (or partly closed) round trip, oldest first. */
  get trades(): Trade[] {
    return this.tradeLog.toArray();
  }

  /** Wallet balance plus unrealised PnL at the last close. */
  get equity(): number {
    return this.q === 0 ? this.walletBalance : this.walletBalance + this.q * (this.lastClose - this.entry);
  }

  /** Signed position size in base units (+ long, - short, 0 flat). */
  get positionQty(): number {
    return this.q;
  }

  /** Initial margin the open position holds (|qty| x entry / leverage). */
  get marginUsed(): number {
    return this.q === 0 ? 0 : (Math.abs(this.q) * this.entry) / this.lev;
  }

  get wallet(): number {
    return this.walletBalance;
  }

  get lastPrice(): number {
    return this.lastClose;
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

  /** @internal Slippage rate for a market fill now. */
  currentSlippage(): number {
    const c = this.constSlip;
    return c === c ? c : slippageRate(this.config.slippage, (this.lastHigh - this.lastLow) / this.lastClose);
  }

  /** Recomputes the first adverse level after the entry, stop or liquidation price changed. */
  protected updateAdverse(): void {
    const long = this.q > 0;
    this.slFirst = this.sl > 0 && (long ? this.sl > this.liq : this.sl < this.liq);
    this.adv = this.slFirst ? this.sl : this.liq;
    // A bar strictly inside (bandLo, bandHi) touches no level: the checks can be skipped.
    this.bandLo = long ? this.adv : this.tp > 0 ? this.tp : -Infinity;
    this.bandHi = long ? (this.tp > 0 ? this.tp : Infinity) : this.adv;
  }

  protected setLevelsPct(slPct: number, tpPct: number): void {
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

  /** @internal out[i] = equity now (no double returned across a call). */
  writeEquity(out: Float64Array, i: number): void {
    out[i] = this.q === 0 ? this.walletBalance : this.walletBalance + this.q * (this.lastClose - this.entry);
  }

  hasPosition(): boolean {
    return this.q !== 0;
  }
}
