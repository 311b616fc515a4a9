/**
 * Out-of-sample results pooled over symbols: per task, on how many symbols the model beats its best
 * naive baseline (point estimate, and with an interval excluding 0), and the mean over symbols of
 * model - baseline with an interval drawn on the symbols' common timeline (pooledDifference), so
 * symbols scored over the same months are resampled together.
 */
import type { TaskAgnosticModel } from '@task-agnostic/model';
import { pooledDifference, type Difference, type PooledSeries } from './bootstrap.js';
import { BOOTSTRAP_RESAMPLES, metricOnRows, type MetricSource, type WindowComparison } from './intervals.js';
import { oosRaw, type OosEvaluation } from './oos.js';

export interface OosPooledTask {
  readonly task: string;
  readonly metric: string;
  readonly higherIsBetter: boolean;
  /** Symbols with a baseline comparison. */
  readonly symbols: number;
  readonly beatsBaseline: number;
  readonly beatsBaselineSignificant: number;
  /** Mean over symbols of model - best baseline, signed so that > 0 favours the model. */
  readonly pooled: Difference | null;
  /** Mean block length (rows): the longest of the symbols' own comparisons. */
  readonly blockLength: number;
}

/** Two forecasts of one series on the same windows, with their comparison (compareOnWindows). */
export interface PairedWindows {
  readonly ts: Float64Array;
  readonly a: Float32Array;
  readonly b: Float32Array;
  readonly targets: Float32Array;
  readonly comparison: WindowComparison;
}

/** A task's pooled a - b over series: how many favour a (point, significant) and the mean difference with its joint interval. */
export interface PooledPairs {
  readonly symbols: number;
  readonly better: number;
  readonly betterSignificant: number;
  /** Signed so that > 0 favours a. */
  readonly pooled: Difference | null;
  readonly blockLength: number;
}

/**
 * Pools one task's paired comparisons over series: the mean over series of a - b (signed so that
 * > 0 favours a) with an interval drawn on the series' common timeline (pooledDifference); the mean
 * block length is the longest of the series' own comparisons.
 */
export function poolPairs(task: MetricSource, metric: string, higherIsBetter: boolean, pairs: readonly PairedWindows[], seed: number, resamples = BOOTSTRAP_RESAMPLES): PooledPairs {
  const sign = higherIsBetter ? 1 : -1;
  const series: PooledSeries[] = [];
  let blockLength = 1;
  for (const p of pairs) {
    const a = metricOnRows(task, metric, p.a, p.targets);
    const b = metricOnRows(task, metric, p.b, p.targets);
    series.push({ ts: p.ts, value: sign * p.comparison.diff.estimate, diff: (idx: Int32Array): number => sign * (a(idx) - b(idx)) });
    blockLength = Math.max(blockLength, p.comparison.blockLength);
  }
  return {
    symbols: pairs.length,
    better: pairs.filter((p) => sign * p.comparison.diff.estimate > 0).length,
    betterSignificant: pairs.filter((p) => p.comparison.verdict === 'better').length,
    pooled: series.length ? pooledDifference(series, { resamples, blockLength, level: 0.95, seed }) : null,
    blockLength,
  };
}

/** Pools the per-symbol evaluations of `model` (evaluateOos' results) task by task. */
export function pooledOos(model: TaskAgnosticModel, evs: readonly OosEvaluation[], seed = 0, resamples = BOOTSTRAP_RESAMPLES): OosPooledTask[] {
  return model.tasks.map((modelTask, ti) => {
    const task = modelTask as unknown as MetricSource & { id: string };
    const results = evs.map((e) => e.tasks.find((t) => t.task === task.id)).filter((t) => t?.vsBestBaseline);
    const first = results[0];
    const higherIsBetter = first?.higherIsBetter ?? true;
    const pairs: PairedWindows[] = [];
    for (const t of results) {
      const raw = oosRaw(t!);
      if (raw) pairs.push({ ts: raw.ts, a: raw.outputs, b: raw.baseline, targets: raw.targets, comparison: t!.vsBestBaseline! });
    }
    const p = poolPairs(task, first?.metric ?? '', higherIsBetter, pairs, seed + 1000 + ti, resamples);
    return {
      task: task.id,
      metric: first?.metric ?? '',
      higherIsBetter,
      symbols: p.symbols,
      beatsBaseline: p.better,
      beatsBaselineSignificant: p.betterSignificant,
      pooled: p.pooled,
      blockLength: p.blockLength,
    };
  });
}
