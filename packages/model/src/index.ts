export { TaskAgnosticModel, componentSeeds } from './model.js';
export type { CreateModelOptions, ModelParts, BlendContext } from './model.js';
export { parseModelConfig, modelConfigSchema, DEFAULT_WINDOW_LENGTH, DEFAULT_TASK_IDS } from './config.js';
export type { ModelConfig, ModelConfigInput, TaskSpec } from './config.js';
export { saveModel, loadModel, readModelJson, buildModelJson, writeModelEvaluation } from './artifact.js';
export type { SaveMeta, LoadOptions, ReadModelJsonOptions } from './artifact.js';
export { manifestChecksum, MANIFEST_CHECKSUM_FIELD } from './manifest-checksum.js';
export {
  ARTIFACT_FORMAT,
  ARTIFACT_FORMAT_VERSION,
  ENSEMBLE_FORMAT_VERSION,
  SUPPORTED_FORMAT_VERSIONS,
  MODEL_JSON,
  WEIGHTS_FILE,
  modelJsonSchema,
  trainingRangeSchema,
  deploymentEvaluationSchema,
} from './artifact-schema.js';
export type { ModelJson, TrainingRange, DeploymentEvaluation } from './artifact-schema.js';
export { encodeWeights, decodeWeights, assignWeights, sha256Hex } from './weights.js';
export type { WeightEntry, WeightsManifest, VariableGroup } from './weights.js';
export { describeFeatureDifference, featureFingerprint } from './feature-diff.js';
export { StreamingPredictor, idleMinorGc } from './streaming.js';
export type { StreamingLatency, StreamingPrediction, StreamingPredictorOptions } from './streaming.js';
export { PACKAGE_VERSIONS, versionsCompatible, incompatibleVersions } from './versions.js';
export { assembleTaskOutputs, isBuiltinTask } from './task-outputs.js';
export type { Encoder, Head, Task, TaskState, FeatureMatrix, Normalizer, StreamingFeatures, ModelComponents } from './contracts.js';
export { tryFuseEnsembleHeads, tryFuseHeads } from './fused-heads.js';
export { ensembleRule, combineMemberOutputs, ensembleEncoder, ensembleHead } from './ensemble.js';
export type { EnsembleRule, ModelMember } from './ensemble.js';
export { jsonDifference } from './json-difference.js';
export type { FusedHeads } from './fused-heads.js';
export { defaultComponents } from './components.js';
export { normalizerForSeries, FALLBACK_MIN_ROWS } from './series-normalizer.js';
export type { SeriesNormalizer, SeriesNormalizerOptions } from './series-normalizer.js';
export { headCalibrationSchema, calibrationSchema, headBlendSchema, blendsSchema, riskFusionSchema, headFusionSchema, headFusionsSchema, fusionPolicySchema, decisionPolicySchema, tiltPolicySchema, calibrateInPlace, fusionField } from './calibration.js';
export type { HeadCalibration, HeadBlend, RiskFusionData, HeadFusionData, FusionPolicy, DecisionPolicy, TiltPolicyData } from './calibration.js';
export { fuseTaskRows } from './fusion-rows.js';
export type { FusionTask, FusionRowOutputs, FusionBaselines } from './fusion-rows.js';
