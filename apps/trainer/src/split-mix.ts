/**
 * Split diagnostics: the class mix of every classification task on the training, validation and
 * test rows (pooled and per series), and a warning when validation's mix is far from training's.
 *
 * Everything fitted after training (early stopping, calibration, blends, fusions, the decision
 * policy) is fitted on the validation rows. When their label mix is far from the training rows'
 * (e.g. a calm validation range: 5% 'high' risk where training holds 15%), those choices are tuned
 * for a mix the model will rarely meet. Distance: total variation, TV(p, q) = 1/2 sum_k |p_k - q_k|
 * (0 = the same mix, 1 = no class in common), per task on the pooled rows and, per series, averaged.
 */
import { DataError } from '@task-agnostic/core';
import { CLASS_MIX_AUTO_TV, classMixDistance } from '@task-agnostic/training';
import { pct } from './format.js';

/**
 * Above this total-variation distance between validation's and training's pooled class mix, train
 * warns, and the config's classMix 'auto' fits that task's validation layers for the training mix.
 */
export const MIX_WARN_TV = CLASS_MIX_AUTO_TV;
/**
 * Above this mean per-series distance, train warns too (a mix whose classes move in opposite
 * directions on different series can look fine pooled). Higher than the pooled threshold: one
 * series' validation range holds a few hundred windows and a few dozen label spells, so its mix
 * differs from training's by chance (the main job's synthetic series: regime 0.185 on average
 * while the pooled mix is within 0.1).
 */
export const MIX_WARN_SERIES_TV = 0.25;

/** The rows of one split, as the dataset holds them (class index targets, one row per window). */
export interface MixSplit {
  readonly n: number;
  readonly targets: readonly Float32Array[];
  readonly targetDims: readonly number[];
  readonly seriesIds?: Int32Array;
}

/** A classification task: its index in the splits' targets and its class names (index order). */
export interface MixTask {
  readonly id: string;
  readonly index: number;
  readonly classes: readonly string[];
}

/** Counts and fractions of one split's rows by class. */
export interface ClassMix {
  readonly n: number;
  readonly counts: readonly number[];
  /** counts / n (zeros when n = 0). */
  readonly fractions: readonly number[];
}

export interface SplitMixes {
  readonly train: ClassMix;
  readonly val: ClassMix;
  readonly test: ClassMix;
  /** TV(validation, training); null when either has no rows. */
  readonly valVsTrainTv: number | null;
  /** TV(test, training); null when either has no rows. */
  readonly testVsTrainTv: number | null;
}

export interface TaskClassMix {
  readonly task: string;
  readonly classes: readonly string[];
  readonly pooled: SplitMixes;
  readonly bySeries: Readonly<Record<string, SplitMixes>>;
  /** Mean over series (those with training and validation rows) of TV(validation, training); null when none has. */
  readonly meanSeriesValVsTrainTv: number | null;
}

/** Total-variation distance between two distributions over the same classes: 1/2 sum |p - q|. */
export function totalVariation(p: readonly number[], q: readonly number[]): number {
  if (p.length !== q.length) throw new DataError(`totalVariation: ${p.length} classes against ${q.length}`);
  return classMixDistance(p, q);
}

function mixOf(counts: number[]): ClassMix {
  const n = counts.reduce((a, b) => a + b, 0);
  return { n, counts, fractions: counts.map((c) => (n > 0 ? c / n : 0)) };
}

function tvOrNull(a: ClassMix, b: ClassMix): number | null {
  return a.n > 0 && b.n > 0 ? totalVariation(a.fractions, b.fractions) : null;
}

function splitMixes(train: ClassMix, val: ClassMix, test: ClassMix): SplitMixes {
  return { train, val, test, valVsTrainTv: tvOrNull(val, train), testVsTrainTv: tvOrNull(test, train) };
}

/** Counts per series (index) and pooled of one split's labels of one task. */
function countSplit(s: MixSplit, t: MixTask, seriesCount: number, what: string): { pooled: number[]; series: number[][] } {
  const K = t.classes.length;
  const dim = s.targetDims[t.index];
  const y = s.targets[t.index];
  if (dim === undefined || !y) throw new DataError(`class mix: the ${what} split has no targets for task ${t.id} (index ${t.index})`);
  if (dim !== 1) throw new DataError(`class mix: task ${t.id} has ${dim} target columns; a class label has 1`);
  const pooled = new Array<number>(K).fill(0);
  const series = Array.from({ length: seriesCount }, () => new Array<number>(K).fill(0));
  for (let r = 0; r < s.n; r++) {
    const c = y[r]!;
    if (!Number.isInteger(c) || c < 0 || c >= K) throw new DataError(`class mix: task ${t.id}, ${what} row ${r}: label ${c} is not a class index in [0, ${K})`);
    pooled[c]!++;
    const sid = s.seriesIds?.[r] ?? 0;
    if (sid >= 0 && sid < seriesCount) series[sid]![c]!++;
  }
  return { pooled, series };
}

/**
 * The class mix of every given task over the three splits, pooled and per series (`symbols[i]`
 * names series i of the splits' seriesIds; splits without seriesIds are one series).
 */
export function splitClassMix(splits: { readonly train: MixSplit; readonly val: MixSplit; readonly test: MixSplit }, tasks: readonly MixTask[], symbols: readonly string[]): TaskClassMix[] {
  if (symbols.length === 0) throw new DataError('class mix: no series named');
  return tasks.map((t) => {
    const tr = countSplit(splits.train, t, symbols.length, 'training');
    const va = countSplit(splits.val, t, symbols.length, 'validation');
    const te = countSplit(splits.test, t, symbols.length, 'test');
    const bySeries: Record<string, SplitMixes> = {};
    const tvs: number[] = [];
    symbols.forEach((sym, i) => {
      const m = splitMixes(mixOf(tr.series[i]!), mixOf(va.series[i]!), mixOf(te.series[i]!));
      bySeries[sym] = m;
      if (m.valVsTrainTv !== null) tvs.push(m.valVsTrainTv);
    });
    return {
      task: t.id,
      classes: [...t.classes],
      pooled: splitMixes(mixOf(tr.pooled), mixOf(va.pooled), mixOf(te.pooled)),
      bySeries,
      meanSeriesValVsTrainTv: tvs.length ? tvs.reduce((a, b) => a + b, 0) / tvs.length : null,
    };
  });
}

/** The classification tasks of a model (those with class names), with their index in the dataset's targets. */
export function mixTasksOf(tasks: readonly { readonly id: string; readonly kind: string; readonly classes?: readonly string[] }[], taskIds: readonly string[]): MixTask[] {
  const out: MixTask[] = [];
  for (const t of tasks) {
    if (t.kind !== 'classification' || !t.classes?.length) continue;
    const index = taskIds.indexOf(t.id);
    if (index >= 0) out.push({ id: t.id, index, classes: t.classes });
  }
  return out;
}

/** A class share as the split diagnostics print it (one decimal). */
export const pct1 = (x: number): string => pct(x, 1);

/**
 * One warning per task whose pooled validation mix is more than `threshold` (total variation) from
 * training's, or whose series are on average more than `seriesThreshold`: names the task, the
 * distances and the classes that differ most (validation vs training share).
 */
export function classMixWarnings(mixes: readonly TaskClassMix[], threshold = MIX_WARN_TV, seriesThreshold = MIX_WARN_SERIES_TV): string[] {
  const out: string[] = [];
  for (const m of mixes) {
    const pooled = m.pooled.valVsTrainTv;
    const series = m.meanSeriesValVsTrainTv;
    if (!((pooled ?? 0) > threshold || (series ?? 0) > seriesThreshold)) continue;
    const p = m.pooled;
    const order = m.classes.map((_, k) => k).sort((a, b) => Math.abs(p.val.fractions[b]! - p.train.fractions[b]!) - Math.abs(p.val.fractions[a]! - p.train.fractions[a]!));
    const classes = order
      .filter((k) => Math.abs(p.val.fractions[k]! - p.train.fractions[k]!) >= 0.01)
      .map((k) => `'${m.classes[k]}' ${pct1(p.val.fractions[k]!)} vs ${pct1(p.train.fractions[k]!)}`)
      .join(', ');
    const over = Object.entries(m.bySeries).filter(([, s]) => (s.valVsTrainTv ?? 0) > seriesThreshold).length;
    out.push(
      `task ${m.task}: validation's class mix is far from training's (total-variation distance ${fmtTv(pooled)} pooled, ${fmtTv(series)} mean per series; warning above ${threshold} pooled or ${seriesThreshold} per series; ${over}/${Object.keys(m.bySeries).length} series above ${seriesThreshold}): ` +
        `${classes || 'no class differs by 1 point or more pooled'} (validation vs training). Everything fitted on validation (early stopping, calibration, blends, decision thresholds) is tuned for that mix (the classification layers are refitted for the training mix only with the config's classMix 'training' or 'auto'): consider another validation range (--val-start) or validation blocks spread over the history (data.split.valBlocks)`,
    );
  }
  return out;
}

function fmtTv(x: number | null): string {
  return x === null ? '-' : x.toFixed(3);
}

/**
 * Lines for the train-time log: per task, the pooled mix of the training and validation rows and
 * their distance. The test rows' mix is left out: it is shown before anything is fitted, and test
 * labels must not steer a choice (training.json and the report keep it, beside the test metrics).
 */
export function describeClassMix(mixes: readonly TaskClassMix[]): string[] {
  return mixes.map((m) => {
    const row = (name: string, x: ClassMix): string => `${name} (${x.n}) ${x.fractions.map(pct1).join(' / ')}`;
    return `class mix ${m.task} (${m.classes.join(' / ')}): ${row('train', m.pooled.train)}; ${row('val', m.pooled.val)}; TV val-train ${fmtTv(m.pooled.valVsTrainTv)} pooled, ${fmtTv(m.meanSeriesValVsTrainTv)} mean per series`;
  });
}
