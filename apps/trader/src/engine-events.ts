/**
 * What the engine tells an observer (the dashboard, metrics and alerts) after each candle. The call
 * comes after the order was handed to the venue, so an observer never delays a send; it must be
 * cheap and must not throw (the engine catches and logs anything it throws).
 */
import type { Candle, Position, SymbolId, TaskOutputs, TradingDecision } from '@task-agnostic/core';
import type { GateVerdict } from '@task-agnostic/risk';
import type { TargetKind } from './journal.js';
import type { Target } from './venue.js';

export interface CandleEvent {
  readonly symbol: SymbolId;
  readonly candle: Candle;
  /** The journal's decision row id. */
  readonly decisionId: number;
  readonly decision: TradingDecision;
  readonly outputs: TaskOutputs | undefined;
  readonly verdict: GateVerdict;
  readonly target: (Target & { readonly kind: TargetKind; readonly clientOrderId: string }) | null;
  /** What the venue answered for the order of this candle (null: no order). */
  readonly execution: 'sent' | 'noop' | 'rejected' | null;
  readonly executionError?: string;
  readonly fills: number;
  readonly equity: number;
  readonly position: Position | undefined;
  /** Per-stage latency of this candle (ms), empty for warm-up history. */
  readonly stages: readonly (readonly [string, number])[];
  /** True when the kill switch engaged at this candle. */
  readonly killEngaged: boolean;
  readonly killReason: string | null;
  /** Warm-up history: no trading. */
  readonly history: boolean;
}

export interface EngineObserver {
  onCandle(event: CandleEvent): void;
}
