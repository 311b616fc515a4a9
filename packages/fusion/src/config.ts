import { z } from 'zod/v3';
import { REGIMES } from '@task-agnostic/core';
import { parseWithSchema } from '@task-agnostic/core';

const frac = z.number().finite().min(0).max(1);
const pos = z.number().finite().positive();

/** Volatility-percentile bands shared by sizing, agreement and exits (source: 0.6 and 0.8). */
const volatilityBandsSchema = z
  .object({
    elevatedPercentile: frac.default(0.6),
    highPercentile: frac.default(0.8),
  })
  .strict()
  .default({})
  .refine((b) => b.elevatedPercentile <= b.highPercentile, {
    message: 'elevatedPercentile must be <= highPercentile',
    path: ['elevatedPercentile'],
  });

/**
 * Stop-loss / take-profit by regime, widened above the high volatility percentile.
 * Source: RiskParameters.get_stop_loss / get_take_profit (base 1.5% / 2.5%; bull|bear x1 / x1.2,
 * sideways|low-vol x0.67 / x0.6, high-vol x1.67 / x1.6; above the 80th percentile x1.5 / x1.3).
 */
const exitsSchema = z
  .object({
    baseStopLossPct: z.number().finite().positive().max(0.5).default(0.015),
    baseTakeProfitPct: z.number().finite().positive().max(1).default(0.025),
    stopWidening: pos.default(1.5),
    takeProfitWidening: pos.default(1.3),
  })
  .strict()
  .default({});

const sharedShape = {
  volatilityBands: volatilityBandsSchema,
  /**
   * Agreement multiplier when volatility "warns" (ours: the source's agreement matrix scores
   * scenario 2, all agree but volatility high, at 0.70; DecisionFusion's code leaves volatility out).
   */
  volatilityAgreementFactors: z
    .object({ elevated: frac.default(0.85), high: frac.default(0.7) })
    .strict()
    .default({}),
  /** |expected return| at or below this counts as "no move" (agrees with a neutral view). Ours. */
  returnDeadband: z.number().finite().min(0).default(0.0005),
  /** Agreement at or above which the tasks count as agreeing (source: min_agreement_score 0.60). */
  minAgreement: frac.default(0.6),
  exits: exitsSchema,
};

/** Source: DecisionFusion { consistency_weight, min_confidence } and calculate_position_size. */
export const consistencyFusionConfigSchema = z
  .object({
    ...sharedShape,
    /** w in confidence = p_dir x (1 - w + w x consistency); the source gives no default, 0.5 is ours. */
    consistencyWeight: frac.default(0.5),
    /** Source: min_confidence 0.50. */
    minConfidence: z.number().finite().min(0).lt(1).default(0.5),
    /**
     * How the side is read from the direction head. 'argmax' (source): the most probable of up, down,
     * sideways, so a dominant sideways class holds. 'up-vs-down' (ours, a decision-policy option): the
     * more probable of up and down, its probability the confidence; sideways no longer vetoes a side.
     */
    directionRule: z.enum(['argmax', 'up-vs-down']).default('argmax'),
    /** Source: base_size 0.02 (2% of equity). */
    baseSizeFraction: frac.default(0.02),
    /** Source: vol_multiplier 0.75 above the 60th, 0.5 above the 80th percentile. */
    volatilitySizeFactors: z
      .object({ elevated: frac.default(0.75), high: frac.default(0.5) })
      .strict()
      .default({}),
  })
  .strict();

/** Source (variant): the weighted-signal fusion pipeline and the signal classification table. */
export const weightedFusionConfigSchema = z
  .object({
    ...sharedShape,
    /** signal += directionWeight x (p_up - p_down). Source: trend head w = 0.35. */
    directionWeight: z.number().finite().min(0).default(0.35),
    /** signal += returnWeight x clamp(mu / sigma, -1, 1). Ours; 0 keeps the source pipeline exactly. */
    returnWeight: z.number().finite().min(0).default(0),
    /** confidence *= 1 - penalty x volatility level (percentile). Source: 0.3. */
    volatilityConfidencePenalty: frac.default(0.3),
    /** signal *= boost in a trending regime. Source: 1.2. */
    trendingBoost: pos.default(1.2),
    /** Regimes that count as trending (the source's "Trending" class). */
    trendingRegimes: z.array(z.enum(REGIMES)).default(['bull', 'bear']),
    /** signal *= 1 - dampening x P(high risk). Source: 0.5. */
    riskDampening: frac.default(0.5),
    /** Source: |signal| >= 0.40 strong, >= 0.15 normal, else hold. */
    thresholds: z
      .object({ strong: pos.default(0.4), entry: pos.default(0.15) })
      .strict()
      .default({})
      .refine((t) => t.entry <= t.strong, { message: 'entry must be <= strong', path: ['entry'] }),
    /** Source: strong = 100% of the position, normal = 50%. */
    positionShares: z
      .object({ strong: frac.default(1), normal: frac.default(0.5) })
      .strict()
      .default({}),
    /**
     * What "100% position" means as a fraction of equity: the source's largest single position,
     * base 2% x max multiplier 1.5 = 3%.
     */
    fullPositionFraction: frac.default(0.03),
  })
  .strict();

export type ConsistencyFusionConfig = z.output<typeof consistencyFusionConfigSchema>;
export type WeightedFusionConfig = z.output<typeof weightedFusionConfigSchema>;
export type ConsistencyFusionConfigInput = z.input<typeof consistencyFusionConfigSchema>;
export type WeightedFusionConfigInput = z.input<typeof weightedFusionConfigSchema>;
/** The fields both fusions share (agreement, volatility bands, exits). */
export type SharedFusionConfig = Pick<
  ConsistencyFusionConfig,
  'volatilityBands' | 'volatilityAgreementFactors' | 'returnDeadband' | 'minAgreement' | 'exits'
>;

/** Parses (zod) a consistency-fusion config; missing fields take the source defaults. Throws ConfigError naming the field. */
export function parseConsistencyFusionConfig(json: unknown): ConsistencyFusionConfig {
  return parseWithSchema(consistencyFusionConfigSchema, json, 'consistency fusion config');
}

/** Parses (zod) a weighted-signal fusion config; missing fields take the source defaults. Throws ConfigError naming the field. */
export function parseWeightedFusionConfig(json: unknown): WeightedFusionConfig {
  return parseWithSchema(weightedFusionConfigSchema, json, 'weighted fusion config');
}

export const DEFAULT_CONSISTENCY_FUSION_CONFIG: ConsistencyFusionConfig = parseConsistencyFusionConfig({});
export const DEFAULT_WEIGHTED_FUSION_CONFIG: WeightedFusionConfig = parseWeightedFusionConfig({});

/** Context a caller adds to a decision: when and for which symbol. */
export interface FusionContext {
  readonly tsMs?: number;
  readonly symbol?: string;
  /** The position held at the bar's close as a signed fraction of equity (qty x close / equity): policies with a no-trade band read it. */
  readonly heldExposure?: number;
}
