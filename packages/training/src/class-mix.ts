/**
 * Which class mix the validation-fitted classification layers (calibration, baseline blends and their
 * tuned offsets, head fusions, and the out-of-fold scores that choose among them) are fitted for:
 *
 * - 'validation': the validation rows as they are (every row weighs 1);
 * - 'training': prior-shift weights (@task-agnostic/heads prior-shift: a validation row of class k
 *   weighs p_train(k) / p_val(k)), so each layer is fitted for the training rows' class mix;
 * - 'auto': 'training' for a task whose total-variation distance between the pooled validation and
 *   training mixes exceeds a threshold (CLASS_MIX_AUTO_TV, the trainer's class-mix warning), else
 *   'validation'.
 *
 * The mixes are pooled over the series, as the layers are (one calibration, blend and fusion per task
 * for every symbol); a single series' validation range holds a few hundred windows and a few dozen
 * label spells, so its own mix is mostly noise. Only training and validation labels are read.
 */
import { classCounts, isUnitWeights, priorShiftWeights } from '@task-agnostic/heads';
import type { MultiTaskSplit } from './split.js';

export type ClassMixMode = 'validation' | 'training' | 'auto';

/** 'auto' reweights a task whose pooled TV distance, validation vs training, is above this (the trainer's MIX_WARN_TV). */
export const CLASS_MIX_AUTO_TV = 0.1;

/** What one classification task was fitted for, and why. */
export interface TaskClassMixChoice {
  readonly task: string;
  /** The mix its layers were fitted for: 'training' (reweighted) or 'validation' (as is). */
  readonly mix: 'training' | 'validation';
  /** Pooled class shares of the training and validation (fitted) rows. */
  readonly train: readonly number[];
  readonly val: readonly number[];
  /** Total-variation distance between the two (null without rows in either). */
  readonly tv: number | null;
  /** The class weights p_train(k) / p_val(k) applied (null: every row weighs 1). */
  readonly weights: readonly number[] | null;
  /** Why this mix (e.g. 'auto: TV 0.347 > 0.1'). */
  readonly reason: string;
}

/** Total-variation distance between two class distributions: 1/2 sum_k |p_k - q_k|. */
export function classMixDistance(p: readonly number[], q: readonly number[]): number {
  if (p.length !== q.length) throw new RangeError(`classMixDistance: ${p.length} classes against ${q.length}`);
  let s = 0;
  for (let k = 0; k < p.length; k++) s += Math.abs(p[k]! - q[k]!);
  return s / 2;
}

const shares = (c: readonly number[]): number[] => {
  const n = c.reduce((a, b) => a + b, 0);
  return c.map((x) => (n > 0 ? x / n : 0));
};

/**
 * The class-mix choice of every classification task of `tasks` (index i reads targets[i] of the
 * splits): counts from `train` and from `val` (the rows the layers are fitted on), the mode decides.
 */
export function classMixChoices(
  tasks: readonly { readonly id: string; readonly kind: string; readonly outputDim: number }[],
  train: Pick<MultiTaskSplit, 'n' | 'targets'>,
  val: Pick<MultiTaskSplit, 'n' | 'targets'>,
  mode: ClassMixMode,
  threshold = CLASS_MIX_AUTO_TV,
): TaskClassMixChoice[] {
  if (!(threshold >= 0 && threshold <= 1)) throw new RangeError(`class mix: the 'auto' threshold ${threshold} is not a distance in [0, 1]`);
  const out: TaskClassMixChoice[] = [];
  tasks.forEach((t, i) => {
    if (t.kind !== 'classification') return;
    const K = t.outputDim > 1 ? t.outputDim : 2;
    const ct = train.n > 0 ? classCounts(train.targets[i]!, train.n, K) : new Array<number>(K).fill(0);
    const cv = val.n > 0 ? classCounts(val.targets[i]!, val.n, K) : new Array<number>(K).fill(0);
    const pt = shares(ct);
    const pv = shares(cv);
    const tv = train.n > 0 && val.n > 0 ? classMixDistance(pt, pv) : null;
    const base = { task: t.id, train: pt, val: pv, tv };
    if (mode === 'validation') return void out.push({ ...base, mix: 'validation', weights: null, reason: "classMix 'validation'" });
    if (tv === null) return void out.push({ ...base, mix: 'validation', weights: null, reason: `no ${train.n > 0 ? 'validation' : 'training'} rows to take a class mix from` });
    if (mode === 'auto' && !(tv > threshold)) return void out.push({ ...base, mix: 'validation', weights: null, reason: `auto: TV ${tv.toFixed(3)} <= ${threshold}` });
    const w = priorShiftWeights(ct, cv);
    const reason = mode === 'auto' ? `auto: TV ${tv.toFixed(3)} > ${threshold}` : "classMix 'training'";
    // equal mixes give weights of exactly 1: the unweighted fits, bit for bit
    out.push({ ...base, mix: 'training', weights: isUnitWeights(w) ? null : w, reason });
  });
  return out;
}

/** The class weights by task id of the reweighted tasks (for fitBlends and fitFusionOnSplit). */
export function classWeightsByTask(choices: readonly TaskClassMixChoice[]): Readonly<Record<string, readonly number[]>> {
  return Object.fromEntries(choices.flatMap((c) => (c.weights ? [[c.task, c.weights] as const] : [])));
}

/** One log line per task: the mix fitted for, the distance, the shares and the weights. */
export function describeClassMixChoices(choices: readonly TaskClassMixChoice[]): string[] {
  const pct = (a: readonly number[]): string => a.map((x) => `${(100 * x).toFixed(1)}%`).join(' / ');
  return choices.map(
    (c) =>
      `class mix ${c.task}: fitted for the ${c.mix} mix (${c.reason}); train ${pct(c.train)}, validation ${pct(c.val)}${c.weights ? `; validation row weights p_train/p_val ${c.weights.map((w) => w.toFixed(3)).join(' / ')}` : ''}`,
  );
}
