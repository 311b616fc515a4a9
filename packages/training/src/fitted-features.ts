/**
 * Features whose parameters are fitted on the training range, filled in before the dataset is
 * built: `regime_hmm` (the regime label of the trailing window) gets the HMM the regime task's
 * 'hmm' labeller fits, on the same candles task thresholds are fitted on (taskFitRange), with the
 * feature's own horizon, short bars, restarts, iterations and seed. The filled-in feature config
 * is the model's: it travels in the artifact, so batch and streaming read the same HMM, and single-
 * task or transfer models built on the same data and splits fit the same one.
 */
import type { FeatureSetConfig } from '@task-agnostic/features';
import { getTask } from '@task-agnostic/heads';
import { splitBoundaries, taskFitRange, parseDatasetConfig, type DatasetConfigInput, type SeriesInput, type SplitBoundaries } from './dataset.js';

interface FittedHmmState {
  readonly hmm: { readonly model: { readonly means: number[][]; readonly variances: number[][] }; readonly prior: number[]; readonly stateToRegime: number[] } | null;
}

/** Returns `config` with every fitted feature's parameters filled in (unchanged when none needs fitting). */
export function fitFeatureParameters(
  config: FeatureSetConfig,
  series: readonly SeriesInput[],
  dataset: DatasetConfigInput = {},
  boundaries?: readonly SplitBoundaries[],
): FeatureSetConfig {
  if (!config.features.some((f) => f.kind === 'regime_hmm' && !f.hmm)) return config;
  const dc = parseDatasetConfig(dataset);
  const fitOn = taskFitRange(series, dc, splitBoundaries(series, dc, boundaries));
  const features = config.features.map((f) => {
    if (f.kind !== 'regime_hmm' || f.hmm) return f;
    const task = getTask('regime', { labeller: 'hmm', horizon: f.period, shortBars: f.shortBars, hmmRestarts: f.restarts, hmmMaxIterations: f.maxIterations, hmmSeed: f.seed });
    const { hmm } = task.fit(fitOn.candles, fitOn.end) as unknown as FittedHmmState;
    if (!hmm) throw new Error('regime task (hmm labeller) returned no HMM');
    return { ...f, hmm: { means: hmm.model.means, variances: hmm.model.variances, prior: hmm.prior, stateToRegime: hmm.stateToRegime } };
  });
  return { ...config, features };
}
