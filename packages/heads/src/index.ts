export type { Task, TaskKind, TaskState, TaskLabels, Head, BaselineReport, TaskFactory } from './task.js';
export { scoredBaseline } from './task.js';
export { getTask, getTaskFactory, listTasks, registerTask, unregisterTask, assembleTaskOutputs } from './registry.js';
export { createMlpHead, HEAD_HIDDEN_UNITS } from './head-mlp.js';
export type { MlpHeadOptions } from './head-mlp.js';
export { softmaxCrossEntropy, sigmoidCrossEntropy, meanSquaredError, gaussianNll } from './losses.js';
export {
  classificationMetrics,
  regressionMetrics,
  confusionMatrix,
  rocAuc,
  rankCorrelation,
  softmaxRows,
  sigmoid,
} from './metrics.js';
export { binaryMetrics } from './binary.js';
export { parseTaskConfig, horizonSchema, classWeightingSchema, gatherTargets } from './config.js';
export { parseState } from './state.js';
export { checkCandles } from './candles.js';
export {
  forwardLogReturn,
  forwardRealisedVol,
  forwardDrawdown,
  forwardTrendZ,
  oneBarReturns,
  windowRealisedVol,
  windowTrendZ,
  trailingRealisedVol,
  quantileGrid,
  percentileFromGrid,
  robustSigma,
} from './forward.js';
export { fitGarch11, garchLogLikelihood, garchFilter, garchMeanForecastVariance, ewmaVariance, simulateGarch11 } from './garch.js';
export type { GarchParams, GarchFit } from './garch.js';
export { garchVolatilitySeries, GarchVolatilityStream } from './garch-volatility.js';
export type { GarchVolatilityModel } from './garch-volatility.js';
export { nelderMead } from './optimize.js';
export type { NelderMeadOptions, NelderMeadResult } from './optimize.js';
export { fitGaussianHmm, hmmLogLikelihood, hmmPosteriors, viterbi, stationaryDistribution } from './hmm.js';
export type { GaussianHmm, HmmFitOptions, HmmFitResult } from './hmm.js';
export { regimeObservations, fitRegimeHmm, mapStatesToRegimes, regimeProbabilities } from './regime-hmm.js';
export type { RegimeHmmState, RegimeHmmOptions } from './regime-hmm.js';
export { directionTask, createDirectionTask, directionTaskFactory, directionConfigSchema, directionClass } from './tasks/direction.js';
export type { DirectionConfig } from './tasks/direction.js';
export { volatilityTask, createVolatilityTask, volatilityTaskFactory, volatilityConfigSchema, qlike } from './tasks/volatility.js';
export type { VolatilityConfig } from './tasks/volatility.js';
export { regimeTask, createRegimeTask, regimeTaskFactory, regimeConfigSchema, ruleRegime } from './tasks/regime.js';
export type { RegimeConfig } from './tasks/regime.js';
export { returnTask, createReturnTask, returnTaskFactory, returnConfigSchema } from './tasks/return.js';
export type { ReturnConfig } from './tasks/return.js';
export { riskTask, createRiskTask, riskTaskFactory, riskConfigSchema, riskLevel } from './tasks/risk.js';
export type { RiskConfig } from './tasks/risk.js';
export { anomalyTask, createAnomalyTask, anomalyTaskFactory, anomalyConfigSchema } from './tasks/anomaly.js';
export type { AnomalyConfig } from './tasks/anomaly.js';
export { timingTask, createTimingTask, timingTaskFactory, timingConfigSchema, timingLabel } from './tasks/timing.js';
export type { TimingConfig } from './tasks/timing.js';
export {
  applyCalibration,
  identityCalibration,
  fitCalibration,
  fitSoftmaxCalibration,
  fitSigmoidCalibration,
  fitGaussianSpread,
  fitGaussianShrink,
  fitAffine,
  calibrationFormOf,
  reliability,
  classProbabilities,
  MIN_CALIBRATION_ROWS,
  SOFTMAX_METHODS,
  CROSSFIT_FOLDS,
} from './calibration.js';
export type {
  CalibrationForm,
  CalibrationMethod,
  CalibrationSelection,
  OutputCalibration,
  CalibrationFit,
  FitCalibrationOptions,
  Reliability,
  ReliabilityBin,
  SoftmaxMethod,
} from './calibration.js';
export { eceInterval } from './ece-interval.js';
export type { EceIntervalOptions } from './ece-interval.js';
export {
  applyBlend,
  fitBlend,
  fitStackedClassifier,
  fitConvexBlend,
  modelOnlyBlend,
  baselineOnlyBlend,
  baselineForecasts,
  tuneOffsets,
  MIN_BLEND_ROWS,
  BLEND_FOLDS,
  BLEND_CANDIDATES,
  oneStandardErrorChoice,
  ruleChoice,
  balancedRowWeights,
} from './baseline-blend.js';
export type { BaselineSource, BaselineBlend, BlendCandidate, BlendMethod, BlendForm, BlendFit, BlendRule, BlendSelection, FitBlendOptions } from './baseline-blend.js';
export { tuneClassOffsets } from './class-offsets.js';
export { classCounts, priorShiftWeights, classRowWeights, isUnitWeights, weightedMacroF1 } from './prior-shift.js';
export { fitMultinomialLogistic, multinomialLogits } from './multinomial-logistic.js';
export type { MultinomialLogisticFit, MultinomialLogisticOptions } from './multinomial-logistic.js';
export { headFusionFeatureNames, headFusionFeatures, trailingWindowStats, applyHeadFusion, fitHeadFusion, fusedHeadLogits, fusionSpec, taskClasses } from './head-fusion.js';
export type { HeadFusionSpec, HeadFusionFitOptions, HeadFusionInputs, HeadFusionWeights, HeadFusionFit, HeadFusionData, HeadFusionRows, TrailingWindowStats } from './head-fusion.js';
export { RISK_FUSION_FEATURES, MIN_FUSION_ROWS, riskFusionFeatures, applyRiskFusion, fitRiskFusion, fusedRiskLogits } from './risk-vol-fusion.js';
export type { RiskVolFusion, RiskFusionInputs, RiskFusionFit } from './risk-vol-fusion.js';
