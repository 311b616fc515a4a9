/**
 * Multi-timeframe context for 1h bars: the default feature set plus slow summaries of the last
 * 4 days (96 bars), a week (168 bars) and 200 bars: log returns, realised and range volatility,
 * trend slope and consistency, distance to the 200-bar mean. Regimes last weeks, and a 32-bar
 * window with 20-bar indicators cannot see them; these can (measured: packages/training/README.md).
 */
import { DEFAULT_FEATURE_SET, type FeatureSetConfigInput, type FeatureSpecInput } from '@task-agnostic/features';

export const MULTI_TIMEFRAME_EXTRAS = [
  { kind: 'log_return', period: 96 },
  { kind: 'log_return', period: 168 },
  { kind: 'realized_vol', period: 96 },
  { kind: 'parkinson_vol', period: 96 },
  { kind: 'trend_strength', period: 96 },
  { kind: 'trend_consistency', period: 96 },
  { kind: 'dist_sma', period: 200 },
] as const;

/** DEFAULT_FEATURE_SET followed by MULTI_TIMEFRAME_EXTRAS (51 columns, warm-up 200 bars). */
export function multiTimeframeFeatures(): FeatureSetConfigInput {
  return defaultFeaturesWith(MULTI_TIMEFRAME_EXTRAS);
}

/**
 * What the naive baselines of the tasks read, causally (bars <= t): the EWMA volatility forecast in
 * log space (the volatility task's EWMA baseline), realised volatility and maximum drawdown of the
 * trailing 24 bars (the risk label of the trailing window, its persistence baseline), and the
 * trailing 64 bars' log return and realised volatility (what the regime label of the trailing
 * window reads). A model that sees its baselines' inputs can at least match them.
 */
export const BASELINE_INPUT_EXTRAS = [
  { kind: 'log_ewma_vol', lambda: 0.94 },
  { kind: 'realized_vol', period: 24 },
  { kind: 'max_drawdown', period: 24 },
  { kind: 'realized_vol', period: 64 },
  { kind: 'log_return', period: 64 },
] as const;

/** multiTimeframeFeatures() followed by BASELINE_INPUT_EXTRAS (56 columns, warm-up 200 bars). */
export function baselineInputFeatures(): FeatureSetConfigInput {
  return defaultFeaturesWith(MULTI_TIMEFRAME_EXTRAS, BASELINE_INPUT_EXTRAS);
}

/** The one builder of the presets: a fresh version-1 set of DEFAULT_FEATURE_SET's features, then each group of extras in order. */
function defaultFeaturesWith(...extras: readonly (readonly FeatureSpecInput[])[]): FeatureSetConfigInput {
  return { version: 1, features: [...DEFAULT_FEATURE_SET.features, ...extras.flat()] };
}

/**
 * What the regime task's persistence baseline knows, causally: the statistics its HMM labeller reads
 * from the trailing window (t-64, t] (trend t-statistic, median log range of the window and of its
 * 8 central bars) and the label itself, as the fitted HMM's 5 regime probabilities (`regime_hmm`,
 * whose HMM is fitted on the training range when training starts; its argmax is the label of row
 * t-64, tested in packages/training). Direction's and risk's persistence inputs are in
 * BASELINE_INPUT_EXTRAS already (the trailing 24-bar return, drawdown and realised volatility).
 */
export const REGIME_LABEL_EXTRAS = [
  { kind: 'trend_tstat', period: 64 },
  { kind: 'median_log_range', period: 64 },
  { kind: 'median_log_range', period: 8, lag: 28 },
  { kind: 'regime_hmm', period: 64 },
] as const;

/** baselineInputFeatures() followed by REGIME_LABEL_EXTRAS (64 columns, warm-up 200 bars). */
export function labelInputFeatures(): FeatureSetConfigInput {
  return { version: 1, features: [...DEFAULT_FEATURE_SET.features, ...MULTI_TIMEFRAME_EXTRAS, ...BASELINE_INPUT_EXTRAS, ...REGIME_LABEL_EXTRAS] };
}
