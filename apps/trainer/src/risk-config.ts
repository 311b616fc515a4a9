import { barsPerYear as barsPerYearOf, type Interval } from '@task-agnostic/core';
import { parseRiskConfig, type RiskConfig, type RiskConfigInput } from '@task-agnostic/risk';
import type { TrainerConfig } from './config.js';

/** The trainer's risk config: cfg.risk over the 'volTarget' profile (unless it names another), sized for the interval. */
export function riskConfigOf(cfg: TrainerConfig, interval: Interval): RiskConfig {
  const r = cfg.risk as Record<string, unknown>;
  const sizing = (r.sizing ?? {}) as Record<string, unknown>;
  return parseRiskConfig({ profile: 'volTarget', ...r, sizing: { barsPerYear: barsPerYearOf(interval), ...sizing } } as RiskConfigInput);
}

