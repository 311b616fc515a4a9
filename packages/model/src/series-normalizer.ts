/**
 * Which normaliser scales a series at inference. A model trained with per-symbol normalisation
 * holds one normaliser per training symbol (fitted on that symbol's training rows). A symbol it
 * never saw gets the documented fallback: a normaliser fitted on the series' own history before
 * the first row to predict (its warm-up history, never a later row), when that history holds at
 * least `minRows` rows after the feature warm-up; otherwise the pooled normaliser of the model.
 */
import { DataError, type CandleColumns } from '@task-agnostic/core';
import { Normalizer as FeatureNormalizer, type FeatureMatrix as FeaturesMatrix, type NormalizerMethod } from '@task-agnostic/features';
import type { FeatureMatrix, Normalizer } from './contracts.js';
import type { TaskAgnosticModel } from './model.js';

/** Rows of own history (after the feature warm-up) the fallback needs before it trusts its statistics. */
export const FALLBACK_MIN_ROWS = 500;

export interface SeriesNormalizer {
  readonly normalizer: Normalizer;
  /** 'symbol': the model's own for this symbol; 'history': fitted on the series' rows [fitRows); 'pooled': the model's pooled one. */
  readonly source: 'symbol' | 'history' | 'pooled';
  /** For 'history': the rows fitted on. */
  readonly fitRows?: readonly [number, number];
  /** One line saying what was chosen and why (for logs and reports). */
  readonly note: string;
}

export interface SeriesNormalizerOptions {
  /** Least rows of own history (after warm-up) for the 'history' fallback; default FALLBACK_MIN_ROWS. */
  readonly minRows?: number;
  /** The series' feature matrix if already computed (saves computing it again). */
  readonly features?: FeatureMatrix;
}

function pooledSettings(n: Normalizer): { method?: NormalizerMethod; clip?: number } {
  const s = n.toJSON() as { method?: unknown; clip?: unknown } | null;
  return {
    ...(s?.method === 'robust' || s?.method === 'standard' ? { method: s.method } : {}),
    ...(typeof s?.clip === 'number' ? { clip: s.clip } : {}),
  };
}

/**
 * The normaliser for `symbol`'s candles when predicting rows >= historyEnd: the model's own for a
 * symbol it was trained on; else one fitted on rows [0, historyEnd) of these candles (the same
 * method and clip as the model's pooled normaliser); else, with too little history, the pooled one.
 */
export function normalizerForSeries(
  model: TaskAgnosticModel,
  symbol: string,
  candles: CandleColumns,
  historyEnd: number,
  options: SeriesNormalizerOptions = {},
): SeriesNormalizer {
  const own = model.symbolNormalizers.get(symbol);
  if (own) return { normalizer: own, source: 'symbol', note: `${symbol}: the model's own normaliser for it` };
  if (model.symbolNormalizers.size === 0) return { normalizer: model.normalizer, source: 'pooled', note: `${symbol}: the model's pooled normaliser (it was trained with pooled normalisation)` };
  const minRows = options.minRows ?? FALLBACK_MIN_ROWS;
  if (!(Number.isInteger(historyEnd) && historyEnd >= 0 && historyEnd <= candles.length)) {
    throw new DataError(`normalizerForSeries: historyEnd ${historyEnd} is outside [0, ${candles.length}] for ${symbol}`);
  }
  const m = options.features ?? model.components.computeFeatures(candles, model.featureConfig);
  const usable = historyEnd - m.warmup;
  if (usable < minRows) {
    return {
      normalizer: model.normalizer,
      source: 'pooled',
      note: `${symbol}: not in the model and only ${Math.max(0, usable)} rows of own history after warm-up (< ${minRows}): the pooled normaliser`,
    };
  }
  const n = FeatureNormalizer.fit(m as FeaturesMatrix, 0, historyEnd, pooledSettings(model.normalizer));
  return {
    normalizer: n,
    source: 'history',
    fitRows: [n.fitRows[0], n.fitRows[1]],
    note: `${symbol}: not in the model: normaliser fitted on its own history, rows [${n.fitRows[0]}, ${n.fitRows[1]})`,
  };
}
