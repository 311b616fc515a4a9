/**
 * What a model carries beside its weights to turn raw head outputs into decisions: a calibration
 * per head (fitted on the validation split, applied to the raw outputs before decoding, so batch
 * prediction and streaming read the same calibrated numbers) and the decision policy (the fusions'
 * thresholds fitted on the validation split, beside the source design's values). Both are plain
 * JSON data; artifacts without them (format version 1) load as identity calibration and no fitted
 * policy (the fusions' seed thresholds).
 */
import { z } from 'zod/v3';

const finite = z.number().finite();

/** One head's calibration: out'[j] = scale[j] x out[j] + shift[j] on its raw outputs (see @task-agnostic/heads calibration). */
export const headCalibrationSchema = z
  .object({
    method: z.enum(['identity', 'temperature', 'bias-temperature', 'vector', 'gaussian-spread', 'gaussian-shrink', 'affine']),
    scale: z.array(finite).min(1),
    shift: z.array(finite).min(1),
  })
  .passthrough()
  .refine((c) => c.scale.length === c.shift.length, { message: 'scale and shift must have the same length', path: ['shift'] });

export type HeadCalibration = z.infer<typeof headCalibrationSchema>;

/**
 * One head's combination with its task's naive baseline (see @task-agnostic/heads baseline-blend),
 * fitted on the validation split: 'model' (the head alone), 'baseline' (the baseline alone), 'stack'
 * (classifiers: a log p_head + b log p_baseline + offsets) or 'convex' (point forecasts: w head + (1 - w) baseline).
 */
export const headBlendSchema = z
  .object({
    baseline: z.string().min(1),
    method: z.enum(['model', 'baseline', 'stack', 'convex']),
    modelWeight: finite.min(0),
    baselineWeight: finite.min(0),
    offsets: z.array(finite),
  })
  .passthrough();

export type HeadBlend = z.infer<typeof headBlendSchema>;

export const blendsSchema = z.record(z.string(), headBlendSchema);

/**
 * A classification task's answer fused from the model's heads (see @task-agnostic/heads head-fusion),
 * fitted on the validation split: a multinomial logistic of the task head's logits, the volatility
 * head's forecast and the trailing vol against the symbol's vol cuts, persistence and, optionally,
 * the direction head's logits and a trailing window's trend and vol, plus per-class offsets. When
 * present it replaces the task head's baseline blend. K = offsets.length classes.
 */
export const headFusionSchema = z
  .object({
    task: z.string().min(1),
    volatilityTask: z.string().min(1),
    directionTask: z.string().min(1).optional(),
    trailingBars: z.number().int().positive().optional(),
    head: z.boolean().optional(),
    features: z.array(z.string()).min(1),
    weights: z.array(finite),
    offsets: z.array(finite).min(2),
  })
  .passthrough()
  .refine((f) => f.weights.length === (f.features.length + 1) * f.offsets.length, { message: 'weights must hold (features + 1) x classes values', path: ['weights'] });

export type HeadFusionData = z.infer<typeof headFusionSchema>;

/** The risk fusion of format-3 artifacts before head fusions were generalised (`riskFusion`): a 3-class head fusion. */
export const riskFusionSchema = headFusionSchema.refine((f) => f.offsets.length === 3, { message: 'the risk fusion has 3 offsets', path: ['offsets'] });

/**
 * Where an artifact stores the fusion of `task`, for messages and ConfigError fields: `riskFusion`
 * for risk (its field before head fusions were generalised), `fusions.<task>` for the others.
 */
export function fusionField(task: string): string {
  return task === 'risk' ? 'riskFusion' : `fusions.${task}`;
}

/** The list of head fusions an artifact stores (`fusions`), at most one per fused task. */
export const headFusionsSchema = z.array(headFusionSchema).refine((l) => new Set(l.map((f) => f.task)).size === l.length, { message: 'at most one fusion per task' });

export type RiskFusionData = HeadFusionData;

export const calibrationSchema = z.record(z.string(), headCalibrationSchema);

/** One fusion's fitted policy. `thresholds` and `seed` hold the same keys: the fitted and the source values. */
export const fusionPolicySchema = z
  .object({
    thresholds: z.record(z.string(), finite),
    seed: z.record(z.string(), finite),
    /** Non-numeric choices the fit made (e.g. how the side is read from the direction head). */
    options: z.record(z.string(), z.union([z.string(), finite, z.boolean()])).default({}),
    /** The risk gate's entry thresholds that go with them (it re-checks confidence and agreement). */
    gate: z.object({ minConfidence: z.number().min(0).lt(1), minAgreement: z.number().min(0).lt(1) }).strict(),
    /** Heads whose signal the policy reads: a model without one holds, saying which is absent. */
    requiredHeads: z.array(z.string()),
    /** Risk settings fitted with the thresholds (exits mode, resize band), merged over the configured risk. */
    risk: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough();

export type FusionPolicy = z.infer<typeof fusionPolicySchema>;

/** The tilt policy (see @task-agnostic/fusion tilt-policy): the vol-targeted long tilted by the heads' standardised signals. */
export const tiltPolicySchema = z
  .object({
    weight: finite.min(0),
    heads: z.array(z.enum(['direction', 'return'])),
    scales: z.object({ direction: finite.positive().optional(), return: finite.positive().optional() }).strict(),
    maxTilt: finite.min(1),
    /** Turnover control fitted on validation: the no-trade band (exposure) and the score's smoothing half-life (bars); absent = 0. */
    band: finite.min(0).optional(),
    halfLife: finite.min(0).optional(),
    /** The base position's volatility forecast and rebalancing (the vol-targeted baseline's). */
    base: z
      .object({
        volatility: z.literal('garch'),
        garchHorizon: z.number().int().min(1),
        rebalanceEvery: z.number().int().min(1),
        /** Each symbol's GARCH(1,1) fitted on its training rows, and the variance its filter starts from: what the trader forecasts with. */
        garch: z.record(z.string(), z.object({ omega: finite.positive(), alpha: finite.min(0), beta: finite.min(0), mu: finite, initialVariance: finite.min(0) }).strict()).optional(),
      })
      .strict(),
  })
  .passthrough();

export type TiltPolicyData = z.infer<typeof tiltPolicySchema>;

export const decisionPolicySchema = z
  .object({
    version: z.literal(1),
    /** Where it was fitted (always the validation split) and on what objective. */
    fittedOn: z.object({ split: z.literal('validation'), symbols: z.array(z.string()), fromMs: finite, toMs: finite }).passthrough(),
    objective: z.string(),
    fusions: z.object({ consistency: fusionPolicySchema.optional(), weighted: fusionPolicySchema.optional() }).strict(),
    /** The tilt policy fitted beside the fusions (absent in artifacts written before it existed). */
    tilt: tiltPolicySchema.optional(),
  })
  .passthrough();

export type DecisionPolicy = z.infer<typeof decisionPolicySchema>;

/** Applies a head calibration to raw outputs [n, dim] in place. */
export function calibrateInPlace(raw: Float32Array, n: number, cal: HeadCalibration): void {
  const dim = cal.scale.length;
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) raw[i * dim + j] = cal.scale[j]! * raw[i * dim + j]! + cal.shift[j]!;
}
