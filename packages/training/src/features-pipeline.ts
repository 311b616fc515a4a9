/**
 * The real feature pipeline: @task-agnostic/features' computeFeatures, Normalizer (fitted on the
 * training rows only) and makeWindows, behind the FeaturePipeline shape the datasets use.
 */
import { computeFeatures, DEFAULT_FEATURE_SET, makeWindows, Normalizer, type FeatureMatrix, type FeatureSetConfig, type NormalizerOptions } from '@task-agnostic/features';
import type { FeaturePipeline } from './contracts.js';

export function featurePipeline(config: FeatureSetConfig = DEFAULT_FEATURE_SET, normalizerOptions?: NormalizerOptions): FeaturePipeline {
  return {
    compute: (candles) => computeFeatures(candles, config),
    fitNormalizer: (m, start, end) => {
      const n = Normalizer.fit(m as FeatureMatrix, start, end, normalizerOptions);
      return { transform: (x) => n.transform(x as FeatureMatrix), toJSON: () => n.toJSON(), normalizer: n } as ReturnType<FeaturePipeline['fitNormalizer']> & { normalizer: Normalizer };
    },
    makeWindows: (m, ends, W) => makeWindows(m as FeatureMatrix, ends, W),
  };
}

/** The features package's Normalizer behind a pipeline's fitted normaliser, when it is one. */
export function unwrapNormalizer(n: unknown): Normalizer | null {
  const inner = (n as { normalizer?: unknown } | null)?.normalizer;
  return inner instanceof Normalizer ? inner : null;
}
