import type { SymbolId } from './candle.js';

export type OrderSide = 'buy' | 'sell';
export type OrderType = 'market' | 'limit';
export type PositionSide = 'long' | 'short';
export type OrderStatus = 'new' | 'partially_filled' | 'filled' | 'cancelled' | 'rejected';
export type Liquidity = 'maker' | 'taker';
/** Why a fill happened: the strategy's order, an attached stop or target, a liquidation, or funding. */
export type FillReason = 'signal' | 'stop_loss' | 'take_profit' | 'liquidation' | 'flatten';

export interface OrderRequest {
  readonly symbol: SymbolId;
  readonly side: OrderSide;
  readonly type: OrderType;
  /** Quantity in base units (contracts for linear perpetuals = base qty). */
  readonly qty: number;
  /** Limit price (required for limit orders). */
  readonly price?: number;
  readonly reduceOnly?: boolean;
  readonly stopLossPrice?: number;
  readonly takeProfitPrice?: number;
  /** Client id (Bybit orderLinkId, <= 36 chars of [A-Za-z0-9_-]); makes placement idempotent. */
  readonly clientOrderId: string;
}

export interface Order extends OrderRequest {
  readonly id: string;
  readonly status: OrderStatus;
  readonly filledQty: number;
  readonly avgFillPrice?: number;
  /** Fee paid so far on its fills, in quote currency (negative = rebate), where the venue reports it. */
  readonly fee?: number;
  readonly createdMs: number;
  readonly updatedMs: number;
}

export interface Fill {
  readonly orderId: string;
  readonly clientOrderId?: string;
  readonly symbol: SymbolId;
  readonly side: OrderSide;
  readonly qty: number;
  readonly price: number;
  /** Fee paid in quote currency (negative = rebate). */
  readonly fee: number;
  readonly liquidity: Liquidity;
  readonly reason: FillReason;
  readonly tsMs: number;
}

export interface Position {
  readonly symbol: SymbolId;
  readonly side: PositionSide;
  /** Size in base units, > 0. */
  readonly qty: number;
  readonly entryPrice: number;
  readonly leverage: number;
  readonly stopLossPrice?: number;
  readonly takeProfitPrice?: number;
  readonly liquidationPrice?: number;
  readonly unrealizedPnl?: number;
  readonly openedMs: number;
}

export interface Balance {
  /** Account equity in quote currency (wallet + unrealised PnL). */
  readonly equity: number;
  /** Cash available for new margin. */
  readonly available: number;
  readonly currency: string;
}

/** A closed round trip, as backtests and journals report it. */
export interface Trade {
  readonly symbol: SymbolId;
  readonly side: PositionSide;
  readonly qty: number;
  readonly entryMs: number;
  readonly entryPrice: number;
  readonly exitMs: number;
  readonly exitPrice: number;
  readonly exitReason: FillReason;
  /** Net PnL in quote currency after fees and funding. */
  readonly pnl: number;
  readonly fees: number;
  readonly funding: number;
  /** pnl / entry notional. */
  readonly returnPct: number;
}

/** Signed position size: +qty long, -qty short, 0 flat. */
export function signedQty(p: Position | undefined): number {
  if (!p) return 0;
  return p.side === 'long' ? p.qty : -p.qty;
}
