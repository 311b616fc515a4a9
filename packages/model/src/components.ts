/**
 * The real parts: features, encoders and heads wired into the ModelComponents the model
 * rebuilds itself with. Pass another ModelComponents (e.g. with extra tasks registered in the
 * heads package) where needed.
 */
import { buildEncoder, parseEncoderConfig, type EncoderConfig } from '@task-agnostic/encoders';
import {
  DEFAULT_FEATURE_SET,
  Normalizer,
  StreamingFeatures,
  computeFeatures,
  featureNames,
  makeWindows,
  parseFeatureSetConfig,
  type FeatureSetConfig,
} from '@task-agnostic/features';
import { getTask } from '@task-agnostic/heads';
import type { ModelComponents } from './contracts.js';

function featureSet(config: unknown): FeatureSetConfig {
  return config as FeatureSetConfig;
}

export const defaultComponents: ModelComponents = {
  parseEncoderConfig: (json) => parseEncoderConfig(json),
  buildEncoder: (config, inputShape, seed) => buildEncoder(config as EncoderConfig, inputShape, seed),
  getTask: (id, config) => getTask(id, config),
  parseFeatureSetConfig: (json) => (json === undefined ? DEFAULT_FEATURE_SET : parseFeatureSetConfig(json)),
  featureNames: (config) => featureNames(featureSet(config)),
  createStreamingFeatures: (config) => new StreamingFeatures(featureSet(config)),
  computeFeatures: (candles, config, extras) => computeFeatures(candles, featureSet(config), extras),
  makeWindows: (m, endRows, T, out) => makeWindows(m, endRows, T, out),
  normalizerFromJSON: (state) => Normalizer.fromJSON(state),
};
