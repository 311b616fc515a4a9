/**
 * The real parts wired into the model package's ModelComponents (the same wiring as
 * @task-agnostic/model's own components.ts, which its index does not export at the time of writing).
 */
import { buildEncoder, parseEncoderConfig, type EncoderConfig } from '@task-agnostic/encoders';
import { computeFeatures, DEFAULT_FEATURE_SET, featureNames, makeWindows, Normalizer, parseFeatureSetConfig, StreamingFeatures, type FeatureSetConfig } from '@task-agnostic/features';
import { getTask } from '@task-agnostic/heads';
import type { ModelComponents } from '@task-agnostic/model';

const fs = (c: unknown) => c as FeatureSetConfig;

export const defaultComponents: ModelComponents = {
  parseEncoderConfig: (json) => parseEncoderConfig(json),
  buildEncoder: (config, inputShape, seed) => buildEncoder(config as EncoderConfig, inputShape, seed),
  getTask: (id, config) => getTask(id, config),
  parseFeatureSetConfig: (json) => (json === undefined ? DEFAULT_FEATURE_SET : parseFeatureSetConfig(json)),
  featureNames: (config) => featureNames(fs(config)),
  createStreamingFeatures: (config) => new StreamingFeatures(fs(config)),
  computeFeatures: (candles, config) => computeFeatures(candles, fs(config)),
  makeWindows: (m, endRows, T, out) => makeWindows(m, endRows, T, out),
  normalizerFromJSON: (state) => Normalizer.fromJSON(state),
};
