/**
 * Prior-shift (label-shift) correction of the layers fitted on the validation rows (Saerens, Latinne
 * and Decaestecker 2002): when validation's class mix differs from training's, a validation row of
 * class k weighs w_k = p_train(k) / p_val(k), so every weighted sum over the validation rows (a loss,
 * a confusion matrix) is, in expectation, the one the same rows would give under the training mix.
 * Under label shift p(x | y) is the same in both ranges, which is what makes the reweighted sums
 * unbiased for the training mix.
 *
 * - A class absent from validation gets weight 1 (it has no row to weigh).
 * - A class present in validation but absent from training gets weight 0 (the training mix has none).
 * - The mean weight over the validation rows is sum_k p_val(k) w_k = 1 (over the classes both hold),
 *   so a weighted mean has the scale of the unweighted one.
 */
import { confusionMatrix, macroF1OfConfusion, softmaxRows } from './metrics.js';

/** Rows by class: counts[k] = rows whose label is k (labels must be class indices 0..K-1). */
export function classCounts(labels: ArrayLike<number>, n: number, K: number): number[] {
  const counts = new Array<number>(K).fill(0);
  for (let i = 0; i < n; i++) {
    const c = labels[i]!;
    if (!Number.isInteger(c) || c < 0 || c >= K) throw new RangeError(`classCounts: label ${c} at row ${i} is not a class index in [0, ${K})`);
    counts[c]!++;
  }
  return counts;
}

/**
 * The importance weight of each class, w_k = p_train(k) / p_val(k), from the class counts of the
 * training and validation rows (the same K classes). Throws when either has no rows.
 */
export function priorShiftWeights(trainCounts: readonly number[], valCounts: readonly number[]): number[] {
  if (trainCounts.length !== valCounts.length) throw new RangeError(`priorShiftWeights: ${trainCounts.length} training classes against ${valCounts.length} validation classes`);
  const nt = trainCounts.reduce((a, b) => a + b, 0);
  const nv = valCounts.reduce((a, b) => a + b, 0);
  if (!(nt > 0) || !(nv > 0)) throw new RangeError(`priorShiftWeights: ${nt} training and ${nv} validation rows; both need rows`);
  return trainCounts.map((ct, k) => {
    const cv = valCounts[k]!;
    if (cv === 0) return 1;
    return ct / nt / (cv / nv);
  });
}

/** The weight of every row: classWeights[label]. */
export function classRowWeights(labels: ArrayLike<number>, n: number, classWeights: readonly number[]): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const c = labels[i]!;
    const v = classWeights[c];
    if (v === undefined) throw new RangeError(`classRowWeights: label ${c} at row ${i} has no class weight (${classWeights.length} classes)`);
    w[i] = v;
  }
  return w;
}

/** True when every weight is exactly 1 (the reweighting is a no-op, and callers take the unweighted path). */
export function isUnitWeights(classWeights: readonly number[] | undefined): boolean {
  return !classWeights || classWeights.every((w) => w === 1);
}

/**
 * Macro-F1 of logits [n x K] (the argmax of their softmax) against class labels, from a confusion
 * matrix whose rows of true class k count w_k each: the macro-F1 one would expect on rows of the
 * class mix the weights reweight to. A class whose weighted true plus predicted total is 0 is left
 * out, as classificationMetrics leaves out a class neither true nor predicted; with every weight 1
 * it is classificationMetrics' macroF1.
 */
export function weightedMacroF1(outputs: ArrayLike<number>, targets: ArrayLike<number>, n: number, K: number, classWeights: readonly number[]): number {
  if (outputs.length !== n * K) throw new RangeError(`weightedMacroF1: ${outputs.length} outputs for ${n} rows of ${K} classes`);
  if (classWeights.length !== K) throw new RangeError(`weightedMacroF1: ${classWeights.length} class weights for ${K} classes`);
  return macroF1OfConfusion(confusionMatrix(softmaxRows(outputs, n, K), targets, n, K, classWeights));
}
