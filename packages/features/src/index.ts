export {
  DEFAULT_FEATURE_SET,
  OPTIONAL_GROUPS,
  featureSetConfigSchema,
  featureSpecSchema,
  parseFeatureSetConfig,
  withOptionalGroups,
} from './config.js';
export type { FeatureSetConfig, FeatureSetConfigInput, FeatureSpec, FeatureSpecInput, FeatureKind, OptionalGroup } from './config.js';
export { FEATURE_GROUP, featureNames } from './catalog.js';
export { computeFeatures, computeFeaturesF64 } from './batch.js';
export type { FeatureMatrix, FeatureMatrix64 } from './batch.js';
export { StreamingFeatures } from './streaming.js';
export type { StreamingOptions } from './streaming.js';
export type { FeatureExtras, StreamingExtras, OrderbookSnapshot, TradePrint, TimedValue, ExtraGroup } from './extras.js';
export { Normalizer } from './normalizer.js';
export type { NormalizerMethod, NormalizerOptions, NormalizerState } from './normalizer.js';
export { makeWindows, validEndRows } from './windows.js';
export { featureSetHash, FEATURES_ALGORITHM_VERSION } from './fingerprint.js';
