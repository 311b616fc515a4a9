import type { PositionSide, Regime, SymbolId } from '@task-agnostic/core';
import type { AccountState } from './account.js';

/** An open position as the risk gate sees it. */
export interface OpenPosition {
  readonly symbol: SymbolId;
  readonly side: PositionSide;
  /** Size in base units, > 0. */
  readonly qty: number;
  /** Mark price (quote per base); notional = qty x markPrice. */
  readonly markPrice: number;
  /** Per-bar returns of the symbol, oldest first, aligned at the end with RiskState.returns. Append-only for the correlation cache. */
  readonly returns?: ArrayLike<number>;
}

export interface ExchangeState {
  readonly connected: boolean;
  /** When the last market data (tick, candle, book) arrived. */
  readonly lastDataMs: number;
  /** Requests left in the current rate-limit window (Bybit X-Bapi-Limit-Status). */
  readonly rateLimitRemaining?: number;
  /**
   * Orders of this symbol whose outcome is not known yet: sent and not answered (a stalled or
   * timed-out request), or not found at a restart while they could still reach the exchange.
   * While any is unresolved the position is unknown: no new entries.
   */
  readonly unresolvedOrders?: number;
  /** Why the account's state (position, balance) could not be read for this decision, if it could not. */
  readonly accountError?: string;
}

export interface MarketState {
  /** Volatility percentile when the decision carries no volatility head output. */
  readonly volatilityPercentile?: number;
  /** Regime when the decision carries no regime head output. */
  readonly regime?: Regime;
  /** (ask - bid) / mid. */
  readonly spreadPct?: number;
  /** Visible book depth (quote currency) on the side the order takes, within the slippage band. */
  readonly depthNotional?: number;
  /** Move of the last bar, (close - open) / open, or the largest intrabar excursion, signed. */
  readonly lastBarMovePct?: number;
}

export interface StrategyState {
  /** Returns (pnl / entry notional) of the most recent closed trades, oldest first. */
  readonly recentTradeReturns: ArrayLike<number>;
  /** Exit time of the most recent closed trade (ms); lets a losing-streak veto expire (strategy.lossStreakPauseMs). */
  readonly lastTradeExitMs?: number;
}

export interface SystemState {
  /** Latency of the decision path (candle close -> decision), recent p95 or last. */
  readonly latencyMs: number;
  /** Share of recent exchange/API calls that failed, in [0, 1]. */
  readonly errorRate: number;
}

/** Everything the seven layers read, passed in as plain data. Missing optional sections are not checked (and say so). */
export interface RiskState {
  readonly nowMs: number;
  readonly account: AccountState;
  readonly positions: readonly OpenPosition[];
  /** Per-bar returns of the decision's symbol, for correlation with the open positions. */
  readonly returns?: ArrayLike<number>;
  readonly exchange?: ExchangeState;
  readonly market?: MarketState;
  readonly strategy?: StrategyState;
  readonly system?: SystemState;
}
