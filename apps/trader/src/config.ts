/**
 * The trader's settings as data, validated at the edge (zod; errors name the field). Defaults live
 * here. Risk and account settings are passed through to their packages' own validators.
 */
import { z } from 'zod/v3';
import { INTERVALS, barsPerYear, parseWithSchema } from '@task-agnostic/core';
import { parseRiskConfig, type RiskConfig, type RiskConfigInput } from '@task-agnostic/risk';
import { parseConsistencyFusionConfig, parseWeightedFusionConfig } from '@task-agnostic/fusion';

export const traderConfigSchema = z
  .object({
    symbols: z.array(z.string().regex(/^[A-Z0-9]{2,20}$/, 'symbols look like BTCUSDT')).min(1).default(['BTCUSDT']),
    /** The source design trades hourly candles. */
    interval: z.enum(INTERVALS).default('1h'),
    /**
     * What decides: 'fused' (default) the fusion below with its thresholds; 'tilt' the model's tilt policy
     * (vol-targeted long tilted by the heads, fitted on validation; decisionPolicy.tilt in the artifact),
     * sized by the risk gate's 'decision' mode with every limit and the kill switch in force.
     */
    policy: z.enum(['fused', 'tilt']).default('fused'),
    /** consistency: the source design's consistency-weighted fusion (default); weighted: weighted signal fusion. */
    fusion: z.enum(['consistency', 'weighted']).default('consistency'),
    fusionConfig: z.unknown().optional(),
    /**
     * 'fitted': the thresholds of the model's decision policy (fitted on validation; the source's when
     * the artifact has none); 'seed': the source design's numbers.
     */
    thresholds: z.enum(['fitted', 'seed']).default('fitted'),
    /**
     * Passed to @task-agnostic/risk parseRiskConfig. Without a `profile`, 'volTarget' (a full-conviction
     * decision holds a position of the order of the account; daily 8% / weekly 15% limits), with
     * sizing.barsPerYear from the interval; `{ "profile": "source" }` is the source design's 2% sizing.
     */
    risk: z.unknown().optional(),
    /** Paper account (passed to @task-agnostic/backtest parseAccountConfig): equity, fees, slippage, leverage. */
    account: z.record(z.unknown()).default({}),
    /** A status line every N candles (0 = off). */
    statusEvery: z.number().int().min(0).default(24),
    /** Candles before this time only warm the model up (no orders): live trading never acts on history. */
    tradeFromMs: z.number().optional(),
  })
  .strict();

export type TraderConfig = z.infer<typeof traderConfigSchema>;
export type TraderConfigInput = z.input<typeof traderConfigSchema>;

export function parseTraderConfig(input: unknown): TraderConfig {
  return parseWithSchema(traderConfigSchema, input, 'trader config', { rootField: 'trader' });
}

/** The risk gate's config: config.risk over the 'volTarget' profile (unless it names another), sized for the interval. */
export function traderRiskConfig(cfg: Pick<TraderConfig, 'risk' | 'interval'>): RiskConfig {
  const r = (cfg.risk ?? {}) as Record<string, unknown>;
  const sizing = (r.sizing ?? {}) as Record<string, unknown>;
  return parseRiskConfig({ profile: 'volTarget', ...r, sizing: { barsPerYear: barsPerYear(cfg.interval), ...sizing } } as RiskConfigInput);
}

/**
 * Validates the fusion and risk sections now (the trader calls it at start, before anything connects
 * or a journal opens), so a typo is a one-line error naming the field instead of a failure at the
 * first candle. Throws ConfigError.
 */
export function checkDecisionConfig(cfg: Pick<TraderConfig, 'fusion' | 'fusionConfig' | 'risk' | 'interval'>): void {
  if (cfg.fusion === 'weighted') parseWeightedFusionConfig(cfg.fusionConfig ?? {});
  else parseConsistencyFusionConfig(cfg.fusionConfig ?? {});
  traderRiskConfig(cfg);
}
