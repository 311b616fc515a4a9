import { z } from 'zod';
import { parseWithSchema } from '@task-agnostic/core';

const frac = z.number().finite().min(0).max(1);
const pos = z.number().finite().positive();

/**
 * Every risk default in one place. The first nine equal the source design's RiskParameters
 * (Default impl): base_position_size 0.02, max_position_multiplier 1.5, min_confidence 0.50,
 * min_agreement_score 0.60, base_stop_loss 0.015, base_take_profit 0.025, max_total_exposure 0.10,
 * daily_loss_limit 0.03, weekly_drawdown_limit 0.05. Values marked "ours" are not in the source.
 */
export const riskConfigSchema = z
  .object({
    baseSize: frac.default(0.02),
    maxPositionMultiplier: pos.default(1.5),
    minConfidence: z.number().finite().min(0).lt(1).default(0.5),
    minAgreement: z.number().finite().min(0).lt(1).default(0.6),
    baseStopLoss: z.number().finite().positive().max(0.5).default(0.015),
    baseTakeProfit: z.number().finite().positive().max(1).default(0.025),
    maxTotalExposure: frac.default(0.1),
    dailyLossLimit: frac.default(0.03),
    weeklyDrawdownLimit: frac.default(0.05),
    /** Source: "Weekly drawdown: -5% -> reduce position sizes by 50%". */
    weeklyDrawdownSizeFactor: frac.default(0.5),
    /** 'formula' = RiskParameters::calculate_position_size; 'table' = the source's sizing table. */
    sizingMethod: z.enum(['formula', 'table']).default('formula'),
    /** Source: vol factor 0.75 above the 60th, 0.5 above the 80th percentile; exits widened x1.5 / x1.3 above the 80th. */
    volatility: z
      .object({
        elevatedPercentile: frac.default(0.6),
        highPercentile: frac.default(0.8),
        elevatedFactor: frac.default(0.75),
        highFactor: frac.default(0.5),
        stopWidening: pos.default(1.5),
        takeProfitWidening: pos.default(1.3),
      })
      .strict()
      .default({})
      .refine((v) => v.elevatedPercentile <= v.highPercentile, { message: 'elevatedPercentile must be <= highPercentile', path: ['elevatedPercentile'] }),
    /** Optional fractional Kelly cap with a drawdown brake (ours; quarter Kelly, brake from 5% to the 15% drawdown target). */
    kelly: z
      .object({
        enabled: z.boolean().default(false),
        fraction: frac.default(0.25),
        minTrades: z.number().int().min(2).default(20),
        brakeStartDrawdown: frac.default(0.05),
        brakeFullDrawdown: frac.default(0.15),
      })
      .strict()
      .default({})
      .refine((k) => k.brakeStartDrawdown < k.brakeFullDrawdown, { message: 'brakeStartDrawdown must be < brakeFullDrawdown', path: ['brakeStartDrawdown'] }),
    /** Source: "don't trade highly correlated assets together" (0.7, the windows and the per-symbol cap are ours). */
    portfolio: z
      .object({
        maxCorrelation: frac.default(0.7),
        correlationWindow: z.number().int().min(3).default(100),
        minCorrelationSamples: z.number().int().min(3).default(20),
        /** Largest single-symbol position: base 2% x max multiplier 1.5 = 3%. */
        maxSymbolExposure: frac.default(0.03),
      })
      .strict()
      .default({}),
    /** Ours. */
    exchange: z
      .object({
        minRateLimitRemaining: z.number().int().min(0).default(5),
        maxDataAgeMs: z.number().int().positive().default(120_000),
      })
      .strict()
      .default({}),
    /** Ours. */
    market: z
      .object({
        maxSpreadPct: pos.default(0.002),
        /** Order notional at most this share of the visible book depth. */
        maxDepthShare: frac.default(0.1),
        /** A single bar moving more than this trips the circuit breaker. */
        maxBarMovePct: pos.default(0.08),
        vetoVolatilityPercentile: frac.default(0.99),
      })
      .strict()
      .default({}),
    /** Ours: recent performance -> allocation = clamp(profit factor, minAllocation, 1). */
    strategy: z
      .object({
        lookbackTrades: z.number().int().min(1).default(20),
        minTrades: z.number().int().min(1).default(5),
        minAllocation: frac.default(0.25),
        maxConsecutiveLosses: z.number().int().min(1).default(6),
        /**
         * How long a losing streak halts entries after the last losing trade's exit (ours: a day).
         * Without it a halt could never end: no trade, no new outcome to break the streak. Applies
         * when the state gives lastTradeExitMs; 0 = halt for good.
         */
        lossStreakPauseMs: z.number().min(0).default(86_400_000),
      })
      .strict()
      .default({}),
    /** Source budget: end to end with order placement < 100 ms. Above it half size; above maxLatencyMs veto (ours). */
    system: z
      .object({
        latencyBudgetMs: pos.default(100),
        latencySizeFactor: frac.default(0.5),
        maxLatencyMs: pos.default(1000),
        maxErrorRate: frac.default(0.1),
      })
      .strict()
      .default({}),
    /** Ours: the source's max-drawdown target is < 15%; beyond it, or with most calls failing, flatten and stop. */
    killSwitch: z
      .object({
        maxDrawdown: frac.default(0.15),
        maxErrorRate: frac.default(0.5),
      })
      .strict()
      .default({}),
  })
  .strict();

export type RiskConfig = z.output<typeof riskConfigSchema>;
export type RiskConfigInput = z.input<typeof riskConfigSchema>;

/** Parses (zod) a risk config; missing fields take the defaults. Throws ConfigError naming the field. */
export function parseRiskConfig(json: unknown): RiskConfig {
  return parseWithSchema(riskConfigSchema, json, 'risk config');
}

export const DEFAULT_RISK_CONFIG: RiskConfig = parseRiskConfig({});
