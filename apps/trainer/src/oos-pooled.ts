/**
 * Out-of-sample results pooled over symbols: per task, on how many symbols the model beats its best
 * naive baseline (point estimate, and with an interval excluding 0), and the mean over symbols of
 * model - baseline with an interval drawn on the symbols' common timeline (pooledDifference), so
 * symbols scored over the same months are resampled together.
 */
import type { TaskAgnosticModel } from '@task-agnostic/model';
import { pooledDifference, type Difference, type PooledSeries } from './bootstrap.js';
import { BOOTSTRAP_RESAMPLES, type MetricSource } from './intervals.js';
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
      const od = task.outputDim;
      const td = task.targetDim;
      // a resample may draw more of this symbol's rows than it has (its months drawn more often)
      let bufA = new Float32Array(0);
      let bufB = new Float32Array(0);
      let bufY = new Float32Array(0);
      const diff = (idx: Int32Array): number => {
        if (bufY.length < idx.length * td) {
          bufA = new Float32Array(idx.length * od);
          bufB = new Float32Array(idx.length * od);
          bufY = new Float32Array(idx.length * td);
        }
        for (let i = 0; i < idx.length; i++) {
          const r = idx[i]!;
          bufA.set(raw.outputs.subarray(r * od, (r + 1) * od), i * od);
          bufB.set(raw.baseline.subarray(r * od, (r + 1) * od), i * od);
          bufY.set(raw.targets.subarray(r * td, (r + 1) * td), i * td);
        }
        const m = idx.length;
        const a = task.metrics(bufA.subarray(0, m * od), bufY.subarray(0, m * td), m)[t!.metric] ?? NaN;
        const b = task.metrics(bufB.subarray(0, m * od), bufY.subarray(0, m * td), m)[t!.metric] ?? NaN;
        return sign * (a - b);
      };
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
