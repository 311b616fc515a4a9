import { z } from 'zod/v3';
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
    /** The profile the defaults came from (see RISK_PROFILES); 'source' = the source design's numbers. */
    profile: z.enum(['source', 'volTarget', 'riskPerTrade']).default('source'),
    /** 'formula' = RiskParameters::calculate_position_size; 'table' = the source's sizing table (both of the 'source' sizing mode). */
    sizingMethod: z.enum(['formula', 'table']).default('formula'),
    /**
     * How the position layer sizes (ours, beside the source formula):
     * - source: the source formula or table above (2% base, never more than fusion proposes);
     * - volTarget: targetAnnualVol / (the volatility head's per-bar forecast x sqrt(barsPerYear)), capped at maxLeverage;
     * - riskPerTrade: riskPerTrade / the gate's stop distance (lose at most riskPerTrade of equity at the stop), capped at maxLeverage.
     * In the last two the size is x conviction = confidence x agreement (minConfidence / minAgreement only gate entry),
     * capped by maxTotalExposure - the other symbols' exposure; fusion's proposed size (the source's 2% figure) is replaced, not a cap.
     * - decision: the decision's own size (a policy that sizes itself, e.g. the tilt policy's vol-targeted exposure), capped at
     *   maxLeverage and by maxTotalExposure - the other symbols' exposure, with the decision's own stop-loss / take-profit (0 = none).
     * Every other layer (limits, halts, the kill switch) applies in every mode.
     */
    sizing: z
      .object({
        mode: z.enum(['source', 'volTarget', 'riskPerTrade', 'decision']).default('source'),
        targetAnnualVol: z.number().finite().positive().max(5).default(0.4),
        /** Bars in 365 days of the interval traded (8760 = 1h); converts the per-bar forecast to annual. */
        barsPerYear: z.number().finite().positive().default(8760),
        maxLeverage: z.number().finite().positive().max(100).default(1),
        /** Equity lost if the stop is hit (riskPerTrade mode). */
        riskPerTrade: z.number().finite().positive().max(0.5).default(0.01),
        /** A forecast below this per-bar volatility is floored (a near-zero forecast would ask for unbounded size). */
        minVolatility: z.number().finite().positive().default(1e-4),
        /**
         * Hysteresis (ours): a decision on the side already held whose size is within this share of the
         * held size keeps the position as it is (no re-sizing trade, the entry's exits stay). 0 = every
         * approved decision re-targets the position (the behaviour before this option).
         */
        resizeBand: frac.default(0),
      })
      .strict()
      .default({}),
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
    /**
     * How the gate sets stop-loss and take-profit (ours beside the source):
     * - regime: the source's base 1.5% / 2.5% x regime multipliers, widened above the 80th volatility percentile;
     * - volatility: multiples of the volatility head's per-bar forecast over a holding horizon,
     *   stop = stopVolMultiple x sigma x sqrt(horizonBars), take-profit = takeProfitVolMultiple x sigma x sqrt(horizonBars),
     *   clamped to [minStopPct, maxStopPct] (take-profit to [minStopPct, 1]); without a forecast the regime exits apply.
     */
    exits: z
      .object({
        mode: z.enum(['regime', 'volatility']).default('regime'),
        stopVolMultiple: pos.default(2),
        takeProfitVolMultiple: pos.default(3),
        horizonBars: z.number().int().positive().default(24),
        minStopPct: z.number().finite().positive().max(0.5).default(0.005),
        maxStopPct: z.number().finite().positive().max(0.9).default(0.25),
      })
      .strict()
      .default({})
      .refine((e) => e.minStopPct <= e.maxStopPct, { message: 'minStopPct must be <= maxStopPct', path: ['minStopPct'] }),
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

export type RiskProfile = RiskConfig['profile'];

/**
 * Account-sized limits shared by the volTarget and riskPerTrade profiles (ours). A position of the
 * order of the account moves with the market: at a 40% annual volatility target one day's standard
 * deviation is 0.4 / sqrt(365) = 2.1% of equity, so the source's 3% daily loss limit (a 1.4 sigma
 * day) would halt on one day in twelve. The daily limit is 8% (about 3.8 sigma), the weekly brake 15%
 * (2.7 weekly sigma), the kill switch 35% from the peak. Entry thresholds are left to fusion (0 here):
 * the decision policy fitted on validation decides whether to trade; risk decides how much.
 */
const ACCOUNT_SIZED: RiskConfigInput = {
  minConfidence: 0,
  minAgreement: 0,
  maxTotalExposure: 1,
  dailyLossLimit: 0.08,
  weeklyDrawdownLimit: 0.15,
  portfolio: { maxSymbolExposure: 1 },
  killSwitch: { maxDrawdown: 0.35 },
};

/**
 * Named starting points; a config's own fields override its profile's. 'source' is the source design
 * (2% base, 10% exposure); 'volTarget' (the trainer's and trader's default) and 'riskPerTrade' let a
 * full-conviction decision hold a position of the order of the account (see the README).
 */
export const RISK_PROFILES: Readonly<Record<RiskProfile, RiskConfigInput>> = {
  source: {},
  volTarget: { ...ACCOUNT_SIZED, sizing: { mode: 'volTarget', targetAnnualVol: 0.4, maxLeverage: 1 } },
  riskPerTrade: { ...ACCOUNT_SIZED, sizing: { mode: 'riskPerTrade', riskPerTrade: 0.01, maxLeverage: 1 } },
};

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function mergeUnder(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isRecord(v) && isRecord(base[k]) ? mergeUnder(base[k], v) : v;
  return out;
}

/**
 * A risk config input with overrides merged in, objects key by key (e.g. a decision policy's fitted
 * `{ exits: {...}, sizing: { resizeBand } }` over a configured `{ profile, sizing: { barsPerYear } }`).
 */
export function withRiskOverrides(base: unknown, over: Readonly<Record<string, unknown>> | undefined): Record<string, unknown> {
  const b = isRecord(base) ? base : {};
  return over ? mergeUnder(b, over as Record<string, unknown>) : { ...b };
}

/**
 * Parses (zod) a risk config; missing fields take the profile's values (`profile`, default 'source'),
 * then the defaults. Throws ConfigError naming the field.
 */
export function parseRiskConfig(json: unknown): RiskConfig {
  if (isRecord(json) && typeof json.profile === 'string' && json.profile in RISK_PROFILES) {
    json = mergeUnder(RISK_PROFILES[json.profile as RiskProfile] as Record<string, unknown>, json);
  }
  return parseWithSchema(riskConfigSchema, json, 'risk config');
}

export const DEFAULT_RISK_CONFIG: RiskConfig = parseRiskConfig({});
