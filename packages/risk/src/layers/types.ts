import type { Regime, TradingDecision } from '@task-agnostic/core';
import type { CorrelationCache } from '../correlation.js';
import type { RiskConfig } from '../params.js';
import type { RiskState } from '../state.js';

export const LAYER_NAMES = ['position', 'portfolio', 'account', 'exchange', 'market', 'strategy', 'system'] as const;
export type LayerName = (typeof LAYER_NAMES)[number];
export type LayerAction = 'approve' | 'shrink' | 'veto';

export interface LayerContext {
  readonly decision: TradingDecision;
  readonly state: RiskState;
  readonly config: RiskConfig;
  /** Size after the layers before this one. */
  readonly sizeFraction: number;
  /** Gross exposure of the other symbols' positions / equity. */
  readonly exposure: number;
  readonly volatilityPercentile: number;
  readonly regime: Regime | undefined;
  readonly correlations?: CorrelationCache;
}

export interface LayerResult {
  readonly layer: LayerName;
  readonly action: LayerAction;
  /** Size after this layer. */
  readonly sizeFraction: number;
  /** "layer: why", when it shrank or vetoed. */
  readonly reason?: string;
  /** Informational: what was checked or not checked. */
  readonly note?: string;
  /** Account layer: no new trades until this time (the next UTC day). */
  readonly haltUntilMs?: number;
}

export const approve = (layer: LayerName, size: number, note?: string): LayerResult => ({ layer, action: 'approve', sizeFraction: size, ...(note ? { note } : {}) });
export const veto = (layer: LayerName, why: string): LayerResult => ({ layer, action: 'veto', sizeFraction: 0, reason: `${layer}: ${why}` });
export const shrinkTo = (layer: LayerName, from: number, to: number, why: string): LayerResult =>
  to >= from ? approve(layer, from) : { layer, action: 'shrink', sizeFraction: to, reason: `${layer}: ${why} (size ${pct(from, 3)} -> ${pct(to, 3)})` };
export const pct = (x: number, d = 2): string => `${(x * 100).toFixed(d)}%`;
