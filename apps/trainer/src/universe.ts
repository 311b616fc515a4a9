/**
 * The universe of a run: which loaded series can take part. A series too short for the window,
 * the label horizons, the feature warm-up and the splits is skipped with its name and bar count
 * (a run over every symbol of a folder should not fail on one young listing); what validation
 * repaired (dropped rows, filled or remaining gaps) is said per series.
 */
import { DataError, type InvalidCandlePolicy } from '@task-agnostic/core';
import { DEFAULT_FEATURE_SET, StreamingFeatures, parseFeatureSetConfig } from '@task-agnostic/features';
import { getTask } from '@task-agnostic/heads';
import type { TrainerConfig } from './config.js';
import type { SymbolData } from './data-source.js';
import { dateBoundaries, type Log } from './train-run.js';

/** What a series needs: feature warm-up rows, window length, longest label horizon, purge gap. */
export interface SeriesNeeds {
  readonly warmup: number;
  readonly windowLength: number;
  readonly horizon: number;
  readonly purgeGap: number;
}

/** The warm-up, window, horizon and gap of a config's features and tasks. */
export function seriesNeeds(cfg: TrainerConfig): SeriesNeeds {
  const features = cfg.model.features === undefined ? DEFAULT_FEATURE_SET : parseFeatureSetConfig(cfg.model.features);
  // the warm-up depends on the feature set only: the engine knows it before any bar (and before
  // features fitted on the training range, such as regime_hmm, have their parameters)
  const warmup = new StreamingFeatures(features).warmup;
  const horizon = Math.max(1, ...cfg.model.tasks.map((t) => (typeof t === 'string' ? getTask(t) : getTask(t.id, t.config)).horizon));
  const W = cfg.model.windowLength;
  return { warmup, windowLength: W, horizon, purgeGap: horizon + W };
}

/** Windows each split can hold (before label validity and stride), as the dataset picks them. */
export function splitCapacity(n: number, b: { trainEnd: number; valEnd: number }, s: SeriesNeeds): { train: number; val: number; test: number } {
  const minEnd = s.warmup + s.windowLength - 1;
  const count = (from: number, toExcl: number) => Math.max(0, toExcl - Math.max(from, minEnd));
  return {
    train: count(0, b.trainEnd - s.horizon),
    val: count(b.trainEnd + s.purgeGap, b.valEnd - s.horizon),
    test: count(b.valEnd + s.purgeGap, n - s.horizon),
  };
}

function fractionBounds(n: number, valFraction: number, testFraction: number): { trainEnd: number; valEnd: number } {
  return { trainEnd: Math.floor(n * (1 - valFraction - testFraction)), valEnd: Math.floor(n * (1 - testFraction)) };
}

/** The fewest bars that give every split at least one window under a fraction split. */
export function minBarsForFractions(s: SeriesNeeds, valFraction: number, testFraction: number): number {
  const ok = (n: number) => {
    const c = splitCapacity(n, fractionBounds(n, valFraction, testFraction), s);
    return c.train > 0 && (valFraction === 0 || c.val > 0) && (testFraction === 0 || c.test > 0);
  };
  // capacity grows with n up to floor() steps: the first n that works and keeps working for a few more
  let n = s.warmup + s.windowLength + s.horizon;
  while (!(ok(n) && ok(n + 1) && ok(n + 2))) n++;
  return n;
}

/**
 * Keeps the series that can take part; each one skipped is logged with its name, its bar count
 * and what it would need. Throws when none is left (unless throwWhenEmpty is false).
 */
export function screenSeries(cfg: TrainerConfig, data: readonly SymbolData[], log: Log, o: { throwWhenEmpty?: boolean } = {}): SymbolData[] {
  const needs = seriesNeeds(cfg);
  const split = cfg.data.split;
  const kept: SymbolData[] = [];
  const skipped: string[] = [];
  for (const d of data) {
    const n = d.candles.length;
    let why: string | null = null;
    if ('valFraction' in split) {
      const need = minBarsForFractions(needs, split.valFraction, split.testFraction);
      if (n < need) why = `${n} bars, needs at least ${need}`;
    } else {
      // a refitted copy (fitBefore) keeps the series its run trained on: the history needed is before the fit date
      const b = dateBoundaries(d.candles, split.fitBefore ?? split.valStart, split.testStart, split.valBlocks);
      const before = split.fitBefore !== undefined ? 'the fit date (data.split.fitBefore)' : 'the validation start';
      if (splitCapacity(n, b, needs).train <= 0) why = `${n} bars (${b.trainEnd} before ${before}), needs at least ${needs.warmup + needs.windowLength + needs.horizon} before it`;
    }
    if (why) {
      skipped.push(d.symbol);
      log(`skipping ${d.symbol}: ${why} for window ${needs.windowLength}, horizon ${needs.horizon}, feature warm-up ${needs.warmup} and purge gap ${needs.purgeGap}`);
    } else kept.push(d);
  }
  if (kept.length === 0 && (o.throwWhenEmpty ?? true)) throw new DataError(`no symbol has enough history for window ${needs.windowLength}, horizon ${needs.horizon} and warm-up ${needs.warmup} (skipped ${skipped.join(', ')})`);
  return kept;
}

/** What validation changed in a series, said in a few words ('' for clean data). */
export function describeRepairs(d: Pick<SymbolData, 'dropped' | 'filled' | 'missing'>, policy: InvalidCandlePolicy): string {
  const parts: string[] = [];
  if (d.dropped) parts.push(`${d.dropped} bars dropped`);
  if (d.filled) parts.push(`${d.filled} bars filled`);
  const left = policy === 'ffill' ? 0 : (d.missing ?? 0);
  if (left) parts.push(`${left} missing bars left as gaps`);
  return parts.length ? ` (policy ${policy}: ${parts.join(', ')})` : '';
}
