import { ConfigError, DataError } from '@task-agnostic/core';
import type { Balance, Fill, Position, SymbolId, Trade } from '@task-agnostic/core';
import { SimulatedAccount } from './account.js';
import type { SimulatedAccountOptions } from './account-types.js';
import type { AccountConfig, AccountConfigInput } from './config.js';
import { parseAccountConfig } from './config.js';

/**
 * One wallet over several symbols: a SimulatedAccount (the same fill model) per symbol, all
 * starting from the one initial equity, whose gains, losses, fees and funding add up in one
 * portfolio equity = initial + sum over symbols of (ledger equity - initial).
 *
 * A time step is driven as: beginStep() (every symbol's share of the wallet and margin, marked at
 * the last close, is handed to the others), then each symbol's bar in a fixed order (the symbol
 * order given at construction), then decisions. A target is sized on the portfolio equity (the
 * symbol's own ledger at the fill price, the others at their last close: no look-ahead) and must
 * fit, with its fee, in what the other positions' margin leaves. The backtest's portfolio mode
 * and the trader's paper account drive it in the same order, so they make the same fills.
 */
export class PortfolioAccount {
  readonly config: AccountConfig;
  readonly symbols: readonly SymbolId[];
  private readonly accounts = new Map<SymbolId, SimulatedAccount>();
  private readonly list: SimulatedAccount[] = [];

  constructor(symbols: readonly SymbolId[], config: AccountConfigInput | AccountConfig = {}, options: Omit<SimulatedAccountOptions, 'funding' | 'lowerTimeframe'> = {}) {
    if (symbols.length === 0) throw new ConfigError('a portfolio needs at least one symbol', 'symbols');
    const dup = symbols.find((s, i) => symbols.indexOf(s) !== i);
    if (dup) throw new ConfigError(`symbol ${dup} is listed twice`, 'symbols');
    this.config = parseAccountConfig(config);
    this.symbols = [...symbols];
    for (const s of symbols) {
      const a = new SimulatedAccount({ ...this.config, symbol: s }, options);
      this.accounts.set(s, a);
      this.list.push(a);
    }
  }

  /** The ledger of one symbol (drive it with onBar / submitDecision between beginStep calls). */
  account(symbol: SymbolId): SimulatedAccount {
    const a = this.accounts.get(symbol);
    if (!a) throw new DataError(`symbol ${symbol} is not in this portfolio (${this.symbols.join(', ')})`);
    return a;
  }

  /**
   * Starts a time step: gives each ledger the others' share of the wallet and their margin, as
   * marked at their last close. Call before the step's bars (and before a same_close decision).
   */
  beginStep(): void {
    const w0 = this.config.initialEquity;
    let shareSum = 0;
    let marginSum = 0;
    for (const a of this.list) {
      shareSum += a.equity - w0;
      marginSum += a.marginUsed;
    }
    for (const a of this.list) {
      a.otherEquity = shareSum - (a.equity - w0);
      a.otherMargin = marginSum - a.marginUsed;
    }
  }

  /** Portfolio equity: the one wallet plus every open position marked at its last close. */
  get equity(): number {
    const w0 = this.config.initialEquity;
    let e = w0;
    for (const a of this.list) e += a.equity - w0;
    return e;
  }

  /** Margin held by all open positions. */
  get marginUsed(): number {
    let m = 0;
    for (const a of this.list) m += a.marginUsed;
    return m;
  }

  balance(): Balance {
    const eq = this.equity;
    return { equity: eq, available: eq - this.marginUsed, currency: this.config.currency };
  }

  positions(): Position[] {
    const out: Position[] = [];
    for (const a of this.list) {
      const p = a.position();
      if (p) out.push(p);
    }
    return out;
  }

  /**
   * Every closed round trip of every symbol, by exit time (ties: symbol order, then each symbol's
   * own order): the order of a stable sort of all symbols' trades by exit time. Kept incrementally:
   * a read places only the trades closed since the last read (each moved back past the few merged
   * trades that sort after it, usually none), so a caller that reads it every candle pays for the
   * new trades, not for the whole history. It is a live view: the same array grows as trades close
   * (copy it to keep a snapshot). Treat it as read-only.
   */
  get trades(): Trade[] {
    for (let k = 0; k < this.list.length; k++) {
      const a = this.list[k]!;
      const from = this.mergedPer[k] ?? 0;
      const len = a.tradeLog.length;
      if (len === from) continue;
      const ts = a.trades; // the ledger's own cache: builds the new rows only
      for (let i = from; i < len; i++) this.place(ts[i]!, k, i);
      this.mergedPer[k] = len;
    }
    return this.merged;
  }
  private readonly merged: Trade[] = [];
  /** Per merged trade: its symbol's index and its index in that symbol's list (the sort's tie-breaks). */
  private readonly mergedSym: number[] = [];
  private readonly mergedSeq: number[] = [];
  private readonly mergedPer: number[] = [];
  /**
   * @internal The merge's work so far: trades placed, and merged trades moved to make room for one
   * that sorts before them. Both stay proportional to the number of trades (tests check it).
   */
  readonly tradeMergeWork = { placed: 0, moved: 0 };

  /** Insertion from the end by (exit time, symbol index, index in the symbol's list). */
  private place(t: Trade, k: number, i: number): void {
    const m = this.merged;
    const ms = this.mergedSym;
    const mq = this.mergedSeq;
    let j = m.length;
    while (j > 0) {
      const x = m[j - 1]!;
      const after = x.exitMs > t.exitMs || (x.exitMs === t.exitMs && (ms[j - 1]! > k || (ms[j - 1] === k && mq[j - 1]! > i)));
      if (!after) break;
      m[j] = x;
      ms[j] = ms[j - 1]!;
      mq[j] = mq[j - 1]!;
      j--;
      this.tradeMergeWork.moved++;
    }
    m[j] = t;
    ms[j] = k;
    mq[j] = i;
    this.tradeMergeWork.placed++;
  }

  /** Every fill of every symbol, by time (ties: symbol order, then fill order). */
  get fills(): Fill[] {
    return this.list.flatMap((a) => a.fills).sort((x, y) => x.tsMs - y.tsMs);
  }

  get feesPaid(): number {
    return this.list.reduce((s, a) => s + a.feesPaid, 0);
  }
}
