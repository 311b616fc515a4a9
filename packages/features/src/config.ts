import { z } from 'zod/v3';
import { ConfigError, configErrorFromZod } from '@task-agnostic/core';

const period = (def: number, min = 1) => z.number().int().min(min).max(10_000).default(def);
const name = z.string().min(1).max(64).regex(/^[a-z0-9_]+$/, 'use lower-case letters, digits and _').optional();
const simple = <K extends string>(kind: K) => z.object({ kind: z.literal(kind), name }).strict();
const withPeriod = <K extends string>(kind: K, def: number, min = 1) =>
  z.object({ kind: z.literal(kind), name, period: period(def, min) }).strict();

/**
 * One feature (or a small family of columns, e.g. stochastic %K and %D) and its parameters.
 * Defaults follow the common textbook periods; the 19 source-design features are marked in
 * DEFAULT_FEATURE_SET.
 */
export const featureSpecSchema = z.discriminatedUnion('kind', [
  withPeriod('return', 1),
  withPeriod('log_return', 1),
  withPeriod('rsi', 14, 2),
  z.object({ kind: z.literal('macd_hist'), name, fast: period(12), slow: period(26, 2), signal: period(9) }).strict(),
  z.object({ kind: z.literal('ma_crossover'), name, fast: period(10), slow: period(30, 2) }).strict(),
  withPeriod('realized_vol', 20, 2),
  z.object({ kind: z.literal('bb_position'), name, period: period(20, 2), stdDev: z.number().positive().max(10).default(2) }).strict(),
  withPeriod('atr_ratio', 14),
  withPeriod('volume_ratio', 20),
  z.object({ kind: z.literal('volume_trend'), name, short: period(5), long: period(20, 2) }).strict(),
  simple('body_ratio'),
  simple('upper_shadow'),
  simple('lower_shadow'),
  simple('range_pct'),
  simple('close_position'),
  withPeriod('trend_strength', 20, 2),
  withPeriod('trend_consistency', 20),
  withPeriod('return_skewness', 20, 3),
  withPeriod('return_kurtosis', 20, 4),
  withPeriod('parkinson_vol', 20),
  withPeriod('garman_klass_vol', 20),
  withPeriod('roc', 10),
  z.object({ kind: z.literal('stochastic'), name, period: period(14), signal: period(3) }).strict(),
  withPeriod('cci', 20, 2),
  withPeriod('williams_r', 14),
  withPeriod('adx', 14, 2),
  withPeriod('obv_change', 20),
  withPeriod('mfi', 14),
  withPeriod('vwap_dev', 20),
  withPeriod('dist_sma', 50),
  withPeriod('dist_ema', 20),
  z.object({ kind: z.literal('vol_of_vol'), name, volPeriod: period(20, 2), period: period(20, 2) }).strict(),
  // the naive baselines' inputs (kernels-baseline.ts)
  z.object({ kind: z.literal('log_ewma_vol'), name, lambda: z.number().gt(0).lt(1).default(0.94) }).strict(),
  withPeriod('max_drawdown', 24),
  // the statistics of the regime label of the trailing window (kernels-label.ts)
  withPeriod('trend_tstat', 64),
  z.object({ kind: z.literal('median_log_range'), name, period: period(64), lag: z.number().int().min(0).max(10_000).default(0) }).strict(),
  // the regime label of the trailing window under the fitted HMM (parameters fitted on the training range)
  z
    .object({
      kind: z.literal('regime_hmm'),
      name,
      period: period(64, 2),
      shortBars: period(8),
      restarts: z.number().int().min(1).max(20).default(3),
      maxIterations: z.number().int().min(1).max(1000).default(100),
      seed: z.number().int().default(0),
      hmm: z
        .object({
          means: z.array(z.array(z.number().finite()).length(3)).length(5),
          variances: z.array(z.array(z.number().finite().positive()).length(3)).length(5),
          prior: z.array(z.number().finite().min(0)).length(5),
          stateToRegime: z.array(z.number().int().min(0).max(4)).length(5),
        })
        .strict()
        .optional(),
    })
    .strict(),
  simple('hour_of_day'),
  simple('day_of_week'),
  // Optional groups: need their extra data (see FeatureExtras).
  simple('ob_spread'),
  z.object({ kind: z.literal('ob_imbalance'), name, levels: period(5) }).strict(),
  z.object({ kind: z.literal('trade_flow'), name, windowBars: period(1) }).strict(),
  simple('funding_rate'),
  z.object({ kind: z.literal('funding_change'), name, lookbackBars: period(1) }).strict(),
  z.object({ kind: z.literal('oi_change'), name, lookbackBars: period(1) }).strict(),
]);

export type FeatureSpec = z.output<typeof featureSpecSchema>;
export type FeatureSpecInput = z.input<typeof featureSpecSchema>;
export type FeatureKind = FeatureSpec['kind'];

export const featureSetConfigSchema = z
  .object({
    version: z.literal(1).default(1),
    features: z.array(featureSpecSchema).min(1),
    /** Candle interval in ms; inferred from the data (smallest step) when absent. */
    intervalMs: z.number().int().positive().optional(),
    /** Largest allowed step between consecutive candles, in intervals (1 = no missing bar). */
    maxGapBars: z.number().int().min(1).default(1_000_000),
  })
  .strict();

export type FeatureSetConfig = z.output<typeof featureSetConfigSchema>;
export type FeatureSetConfigInput = z.input<typeof featureSetConfigSchema>;

/** Validates a feature-set config (e.g. parsed JSON); errors name the offending field. */
export function parseFeatureSetConfig(json: unknown): FeatureSetConfig {
  const r = featureSetConfigSchema.safeParse(json);
  if (!r.success) throw configErrorFromZod(r.error, { what: 'feature set config', rootField: 'featureSet' });
  return r.data;
}

const p = (x: FeatureSpecInput): FeatureSpec => featureSpecSchema.parse(x);

/**
 * The 19 task-agnostic features of the source design (chapter 87 variant, "Feature Extraction"
 * table, rows 1-19, in that order), followed by the extended list from the 64-feature design
 * (chapter 87, "Feature Groups": log returns, Parkinson/Garman-Klass volatility, ROC, RSI/MACD
 * family, VWAP deviation, ...). Optional groups (orderbook, trades, funding, open interest) are
 * off here; add them with withOptionalGroups().
 */
export const DEFAULT_FEATURE_SET: FeatureSetConfig = Object.freeze(
  parseFeatureSetConfig({
    version: 1,
    features: [
      // --- source design, 19 features ---
      p({ kind: 'return', period: 1 }), // 1 return_1d
      p({ kind: 'return', period: 5 }), // 2 return_5d
      p({ kind: 'rsi', period: 14 }), // 3 rsi (normalised to [0,1])
      p({ kind: 'macd_hist', fast: 12, slow: 26, signal: 9 }), // 4 macd histogram (/ close)
      p({ kind: 'ma_crossover', fast: 10, slow: 30 }), // 5 moving-average crossover
      p({ kind: 'realized_vol', period: 20 }), // 6 realised volatility (std of log returns)
      p({ kind: 'bb_position', period: 20, stdDev: 2 }), // 7 position within Bollinger bands
      p({ kind: 'atr_ratio', period: 14 }), // 8 ATR / price
      p({ kind: 'volume_ratio', period: 20 }), // 9 volume / 20-bar mean
      p({ kind: 'volume_trend', short: 5, long: 20 }), // 10 short vs long volume mean
      p({ kind: 'body_ratio' }), // 11
      p({ kind: 'upper_shadow' }), // 12
      p({ kind: 'lower_shadow' }), // 13
      p({ kind: 'range_pct' }), // 14
      p({ kind: 'close_position' }), // 15
      p({ kind: 'trend_strength', period: 20 }), // 16 linear-regression slope
      p({ kind: 'trend_consistency', period: 20 }), // 17 share of up bars
      p({ kind: 'return_skewness', period: 20 }), // 18
      p({ kind: 'return_kurtosis', period: 20 }), // 19 excess kurtosis
      // --- extended (64-feature design) ---
      p({ kind: 'log_return', period: 1 }),
      p({ kind: 'log_return', period: 3 }),
      p({ kind: 'log_return', period: 12 }),
      p({ kind: 'log_return', period: 24 }),
      p({ kind: 'parkinson_vol', period: 20 }),
      p({ kind: 'garman_klass_vol', period: 20 }),
      p({ kind: 'roc', period: 10 }),
      p({ kind: 'stochastic', period: 14, signal: 3 }),
      p({ kind: 'cci', period: 20 }),
      p({ kind: 'williams_r', period: 14 }),
      p({ kind: 'adx', period: 14 }),
      p({ kind: 'obv_change', period: 20 }),
      p({ kind: 'mfi', period: 14 }),
      p({ kind: 'vwap_dev', period: 20 }),
      p({ kind: 'dist_sma', period: 20 }),
      p({ kind: 'dist_sma', period: 50 }),
      p({ kind: 'dist_sma', period: 100 }),
      p({ kind: 'dist_ema', period: 20 }),
      p({ kind: 'vol_of_vol', volPeriod: 20, period: 20 }),
      p({ kind: 'hour_of_day' }),
      p({ kind: 'day_of_week' }),
    ],
  }),
) as FeatureSetConfig;

/** The optional groups and the features each adds. */
export const OPTIONAL_GROUPS = {
  orderbook: [
    p({ kind: 'ob_spread' }),
    p({ kind: 'ob_imbalance', levels: 5 }),
    p({ kind: 'ob_imbalance', levels: 10 }),
    p({ kind: 'ob_imbalance', levels: 20 }),
  ],
  trades: [p({ kind: 'trade_flow', windowBars: 1 }), p({ kind: 'trade_flow', windowBars: 12 })],
  funding: [p({ kind: 'funding_rate' }), p({ kind: 'funding_change', lookbackBars: 8 })],
  openInterest: [p({ kind: 'oi_change', lookbackBars: 1 }), p({ kind: 'oi_change', lookbackBars: 24 })],
} as const satisfies Record<string, readonly FeatureSpec[]>;

export type OptionalGroup = keyof typeof OPTIONAL_GROUPS;

/** `base` plus the features of the given optional groups (appended, in the order given). */
export function withOptionalGroups(groups: readonly OptionalGroup[], base: FeatureSetConfig = DEFAULT_FEATURE_SET): FeatureSetConfig {
  const features = [...base.features];
  for (const g of groups) {
    const add = OPTIONAL_GROUPS[g];
    if (!add) throw new ConfigError(`unknown optional group '${String(g)}' (use ${Object.keys(OPTIONAL_GROUPS).join(', ')})`, 'groups');
    features.push(...add);
  }
  return parseFeatureSetConfig({ ...base, features });
}
