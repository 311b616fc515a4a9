/**
 * Out-of-sample results pooled over symbols: per task, on how many symbols the model beats its best
 * naive baseline (point estimate, and with an interval excluding 0), and the mean over symbols of
 * model - baseline with an interval drawn on the symbols' common timeline (pooledDifference), so
 * symbols scored over the same months are resampled together.
 */
import type { TaskAgnosticModel } from '@task-agnostic/model';
import { pooledDifference, type Difference, type PooledSeries } from './bootstrap.js';
import { BOOTSTRAP_RESAMPLES, metricOnRows, type MetricSource } from './intervals.js';
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

/** Pools the per-symbol evaluations of `model` (evaluateOos' results) task by task. */
export function pooledOos(model: TaskAgnosticModel, evs: readonly OosEvaluation[], seed = 0, resamples = BOOTSTRAP_RESAMPLES): OosPooledTask[] {
  return model.tasks.map((modelTask, ti) => {
    const task = modelTask as unknown as MetricSource & { id: string };
    const results = evs.map((e) => e.tasks.find((t) => t.task === task.id)).filter((t) => t?.vsBestBaseline);
    const first = results[0];
    const higherIsBetter = first?.higherIsBetter ?? true;
    const sign = higherIsBetter ? 1 : -1;
    const series: PooledSeries[] = [];
    let blockLength = 1;
    for (const t of results) {
      const raw = oosRaw(t!);
      if (!raw) continue;
      const a = metricOnRows(task, t!.metric, raw.outputs, raw.targets);
      const b = metricOnRows(task, t!.metric, raw.baseline, raw.targets);
      const diff = (idx: Int32Array): number => sign * (a(idx) - b(idx));
      series.push({ ts: raw.ts, value: sign * t!.vsBestBaseline!.diff.estimate, diff });
      blockLength = Math.max(blockLength, t!.vsBestBaseline!.blockLength);
    }
    const pooled = series.length ? pooledDifference(series, { resamples, blockLength, level: 0.95, seed: seed + 1000 + ti }) : null;
    return {
      task: task.id,
      metric: first?.metric ?? '',
      higherIsBetter,
      symbols: results.length,
      beatsBaseline: results.filter((t) => sign * t!.vsBestBaseline!.diff.estimate > 0).length,
      beatsBaselineSignificant: results.filter((t) => t!.vsBestBaseline!.verdict === 'better').length,
      pooled,
      blockLength,
    };
  });
}
