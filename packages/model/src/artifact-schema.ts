/**
 * model.json: everything needed to rebuild a model and to know where it came from. Validated
 * with zod on load; errors name the field.
 */
import { z } from 'zod/v3';
import { weightsManifestSchema } from './weights.js';
import { blendsSchema, calibrationSchema, decisionPolicySchema, headFusionsSchema, riskFusionSchema } from './calibration.js';

export const ARTIFACT_FORMAT = 'task-agnostic-model';
/**
 * Bump on any change a reader of the previous version could not load.
 * 2: adds `calibration` (per head) and `decisionPolicy` (fitted fusion thresholds). Version 1
 * artifacts still load: identity calibration and no fitted policy (the seed thresholds).
 * 3: adds `manifestSha256`, the checksum of model.json itself (see manifest-checksum.ts), required
 * from this version on. Versions 1 and 2 have none: they still load, with a warning that edits to
 * their model.json cannot be detected (re-save them to add it).
 */
export const ARTIFACT_FORMAT_VERSION = 3;
/**
 * 4: adds `members` (a seed ensemble: the seed of each member, member 0's = config.seed) and the
 * weight groups `member<k>/...`. Only ensembles are written as 4, so a one-member model stays
 * loadable by a version-3 reader, and an older reader told about an ensemble says to upgrade.
 */
export const ENSEMBLE_FORMAT_VERSION = 4;
/** Every format version this reader loads. */
export const SUPPORTED_FORMAT_VERSIONS: readonly number[] = [1, 2, 3, 4];
export const MODEL_JSON = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';

export const trainingRangeSchema = z
  .object({
    symbols: z.array(z.string()),
    interval: z.string().optional(),
    /** Open time of the first and last candle of the training range (ms, UTC). */
    startMs: z.number(),
    endMs: z.number(),
    /** Rows (candles) used for training, and for validation where there was a split. */
    trainRows: z.number().int().min(0).optional(),
    validRows: z.number().int().min(0).optional(),
  })
  .passthrough();

export type TrainingRange = z.infer<typeof trainingRangeSchema>;

export const artifactTaskSchema = z
  .object({
    id: z.string().min(1),
    kind: z.enum(['classification', 'regression']),
    horizon: z.number(),
    outputDim: z.number().int().min(1),
    config: z.unknown().optional(),
    /** The task's fitted state (Task.fit on the training range). */
    state: z.record(z.unknown()),
  })
  .strict();

/** A confidence interval of a Sharpe ratio or of a difference of two (annualised). */
const intervalSchema = z.object({ estimate: z.number(), lo: z.number(), hi: z.number() }).strict();

/**
 * The evaluation the deployment gate reads (`trader live`): the fused strategy against buy-and-hold and
 * the naive strategies on the validation split, with intervals. Optional and versioned on its own
 * (`version`), so artifacts without it still load and a later version can add fields.
 */
export const deploymentEvaluationSchema = z
  .object({
    version: z.literal(1),
    /** Which rows: the validation split (never test). */
    split: z.literal('validation'),
    fusion: z.string(),
    /** Confidence level of the intervals (0.9 = 90%). */
    level: z.number().gt(0).lt(1),
    /** How the intervals were computed. */
    method: z.string(),
    symbols: z.array(
      z
        .object({
          symbol: z.string(),
          fromMs: z.number(),
          toMs: z.number(),
          bars: z.number().int().min(0),
          strategies: z.array(
            z
              .object({
                name: z.string(),
                sharpe: intervalSchema,
                totalReturn: z.number(),
                maxDrawdown: z.number(),
                trades: z.number().int().min(0),
              })
              .passthrough(),
          ),
          /** Sharpe of the model's strategy minus buy-and-hold's, paired on the same bars. */
          vsBuyAndHold: intervalSchema,
          /** The same against the naive strategy with the best Sharpe. */
          vsBestNaive: intervalSchema.extend({ name: z.string() }),
          passed: z.boolean(),
          reason: z.string(),
        })
        .passthrough(),
    ),
    /** Every symbol passed: the interval of both differences lies above 0. */
    passed: z.boolean(),
    summary: z.string(),
  })
  .passthrough();

export type DeploymentEvaluation = z.infer<typeof deploymentEvaluationSchema>;

export const modelJsonSchema = z
  .object({
    format: z.literal(ARTIFACT_FORMAT),
    formatVersion: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]),
    createdAt: z.string().datetime(),
    seed: z.number().int().min(0),
    /** The tfjs backend the weights were saved from (bitwise equality holds on the same backend). */
    backend: z.string(),
    packages: z.record(z.string()),
    config: z
      .object({
        windowLength: z.number().int().min(1),
        encoder: z.unknown(),
        tasks: z.array(z.object({ id: z.string(), config: z.unknown().optional() }).strict()),
        features: z.unknown().optional(),
        seed: z.number().int().min(0),
      })
      .strict(),
    features: z.object({ names: z.array(z.string()).min(1), fingerprint: z.string().regex(/^[0-9a-f]{64}$/) }).strict(),
    normalizer: z.unknown(),
    /** Per-symbol normaliser states (normalisation 'perSymbol'), by symbol; absent for pooled models. */
    symbolNormalizers: z.record(z.unknown()).optional(),
    /** Per-symbol task states (labels fitted per symbol), by symbol then task id; absent otherwise. */
    symbolTaskStates: z.record(z.record(z.record(z.unknown()))).optional(),
    /** Per member (member 0's for an ensemble: every member's encoder has the same shape). */
    encoder: z.object({ outputDim: z.number().int().min(1), paramCount: z.number().int().min(0) }).strict(),
    /** A seed ensemble's members in order, member 0's seed = config.seed (format 4; absent: one member). */
    members: z.array(z.object({ seed: z.number().int().min(0) }).strict()).min(2).optional(),
    tasks: z.array(artifactTaskSchema).min(1),
    training: trainingRangeSchema.nullable(),
    metrics: z.record(z.unknown()),
    /** Added after format version 1 first shipped; optional (see deploymentEvaluationSchema). */
    evaluation: deploymentEvaluationSchema.optional(),
    /** Per task id, fitted on the validation split (absent: identity). Since format 2. */
    calibration: calibrationSchema.optional(),
    /** Per task id, each head's combination with its naive baseline, fitted on the validation split (absent: the heads alone). */
    blends: blendsSchema.optional(),
    /** The risk answer fused from the risk and volatility heads, fitted on the validation split (absent: the risk head with its blend). */
    riskFusion: riskFusionSchema.optional(),
    /** Each task answer fused from the model's heads (head fusions: risk, regime...), fitted on the validation split; supersedes riskFusion (absent: the heads with their blends). */
    fusions: headFusionsSchema.optional(),
    /** The fusions' thresholds fitted on the validation split (absent or null: the source values). Since format 2. */
    decisionPolicy: decisionPolicySchema.nullable().optional(),
    weights: weightsManifestSchema,
    /** sha256 of model.json without this field, canonical JSON (manifest-checksum.ts). Since format 3, required there. */
    manifestSha256: z.string().regex(/^[0-9a-f]{64}$/, '64 lowercase hex digits').optional(),
  })
  .strict();

export type ModelJson = z.infer<typeof modelJsonSchema>;
