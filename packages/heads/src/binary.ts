/** Shared pieces of the binary (one-logit) tasks: metrics and the base-rate baseline. */
import { binaryToTwoClass, classificationMetrics, rocAuc, sigmoid } from './metrics.js';

/**
 * Metrics of logits [n, 1] against 0/1 targets: the classification metrics of the two-class
 * probabilities [1 - p, p], plus Brier score, ROC AUC and the mean predicted probability.
 */
export function binaryMetrics(logits: Float32Array, targets: Float32Array, n: number, classes: readonly [string, string]): Record<string, number> {
  const p = new Float64Array(n);
  let brier = 0;
  let meanP = 0;
  let pos = 0;
  for (let i = 0; i < n; i++) {
    p[i] = sigmoid(logits[i]!);
    brier += (p[i]! - targets[i]!) ** 2;
    meanP += p[i]!;
    pos += targets[i]!;
  }
  return {
    ...classificationMetrics(binaryToTwoClass(p, n), targets, n, classes),
    brier: n ? brier / n : NaN,
    auc: rocAuc(p, targets, n),
    meanProbability: n ? meanP / n : NaN,
    positiveRate: n ? pos / n : NaN,
  };
}

/** The logit of the training base rate with add-one smoothing. */
export function baseRateLogit(positives: number, total: number): number {
  const p = (positives + 1) / (total + 2);
  return Math.log(p / (1 - p));
}

/** Weight of the positive class that balances the classes: negatives / positives (1 if either is absent). */
export function balancedPositiveWeight(positives: number, total: number): number {
  const neg = total - positives;
  return positives > 0 && neg > 0 ? neg / positives : 1;
}
