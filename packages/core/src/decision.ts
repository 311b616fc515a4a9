import type { SymbolId } from './candle.js';
import type { TaskOutputs } from './task-outputs.js';

export type TradeAction = 'buy' | 'sell' | 'hold';
/** The side a decision wants to hold after it is carried out. */
export type TargetSide = 'long' | 'short' | 'flat';

/**
 * One trading decision: what fusion concludes from the task outputs and what risk then sizes.
 *
 * `sizeFraction` is the position size as a fraction of account equity (notional / equity), >= 0;
 * the side carries the sign. Fusion proposes it; the risk gate may shrink it or set it to 0 (veto).
 */
export interface TradingDecision {
  readonly tsMs: number;
  readonly symbol?: SymbolId;
  readonly action: TradeAction;
  readonly side: TargetSide;
  /** Final confidence in [0, 1] after the consistency adjustment. */
  readonly confidence: number;
  /** How much the tasks agree with the chosen side, in [0, 1]. */
  readonly agreement: number;
  readonly sizeFraction: number;
  /** Stop-loss distance from entry as a fraction of price (0.015 = 1.5%); 0 = none. */
  readonly stopLossPct: number;
  /** Take-profit distance from entry as a fraction of price; 0 = none. */
  readonly takeProfitPct: number;
  /** Human-readable explanation of how the decision was reached. */
  readonly reasoning: string;
  /** The task outputs the decision was made from, for the journal and reports. */
  readonly outputs?: TaskOutputs;
}

/** A risk layer's verdict on one decision. */
export interface RiskVerdict {
  readonly approved: boolean;
  /** Size after every check (0 when vetoed). */
  readonly sizeFraction: number;
  readonly stopLossPct: number;
  readonly takeProfitPct: number;
  /** One line per check that shrank or vetoed the trade, e.g. "account: daily loss limit 3% reached". */
  readonly reasons: readonly string[];
}

/** A hold decision with no position, e.g. while features warm up. */
export function holdDecision(tsMs: number, reasoning: string, symbol?: SymbolId): TradingDecision {
  return {
    tsMs,
    ...(symbol ? { symbol } : {}),
    action: 'hold',
    side: 'flat',
    confidence: 0,
    agreement: 0,
    sizeFraction: 0,
    stopLossPct: 0,
    takeProfitPct: 0,
    reasoning,
  };
}
