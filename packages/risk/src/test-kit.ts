/**
 * TEST HELPERS shared by the risk tests (not part of the package's API: index.ts does not export
 * them): a clean decision and a calm account, each with overrides, at one fixed time.
 */
import type { TradingDecision } from '@task-agnostic/core';
import type { RiskState } from './state.js';

export const NOW = Date.parse('2026-11-18T12:00:00Z');

/** A long BTCUSDT entry that every layer approves: confidence 0.8, agreement 0.9, 3% asked, 1.5% / 3% exits, vol 1% (50th pct), bull. */
export function testDecision(over: Partial<TradingDecision> = {}): TradingDecision {
  return {
    tsMs: NOW,
    symbol: 'BTCUSDT',
    action: 'buy',
    side: 'long',
    confidence: 0.8,
    agreement: 0.9,
    sizeFraction: 0.03,
    stopLossPct: 0.015,
    takeProfitPct: 0.03,
    reasoning: 'test',
    outputs: {
      volatility: { expected: 0.01, percentile: 0.5 },
      regime: { label: 'bull', probs: { bull: 0.8, bear: 0.05, sideways: 0.05, high_volatility: 0.05, low_volatility: 0.05 }, confidence: 0.8 },
    },
    ...over,
  };
}

/** A 100,000 account at its highs, flat, connected, in a liquid calm market, fast and error-free; `over` replaces whole sections. */
export function testState(over: Partial<RiskState> = {}): RiskState {
  return {
    nowMs: NOW,
    account: { equity: 100_000, dayStartEquity: 100_000, weekHighEquity: 100_000, peakEquity: 100_000 },
    positions: [],
    exchange: { connected: true, lastDataMs: NOW - 1_000, rateLimitRemaining: 100 },
    market: { spreadPct: 0.0002, depthNotional: 5_000_000, lastBarMovePct: 0.003 },
    strategy: { recentTradeReturns: [] },
    system: { latencyMs: 20, errorRate: 0 },
    ...over,
  };
}
