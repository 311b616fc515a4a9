/**
 * Evaluation metrics shared by the tasks, on plain typed arrays (row-major [n, k]).
 * Classification: accuracy, macro-F1, confusion matrix, log-loss. Regression: MSE, MAE, R^2,
 * Pearson correlation (the information coefficient, IC) and Spearman rank correlation.
 */
const EPS = 1e-15;

/** Row-wise softmax of logits [n, k] (float64 out). */
export function softmaxRows(logits: ArrayLike<number>, n: number, k: number): Float64Array {
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (let j = 0; j < k; j++) m = Math.max(m, logits[i * k + j]!);
    let s = 0;
    for (let j = 0; j < k; j++) {
      const e = Math.exp(logits[i * k + j]! - m);
      out[i * k + j] = e;
      s += e;
    }
    for (let j = 0; j < k; j++) out[i * k + j]! /= s;
  }
  return out;
}

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** Binary probabilities p[i] -> two-column probabilities [1 - p, p]. */
export function binaryToTwoClass(p: ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    out[2 * i] = 1 - p[i]!;
    out[2 * i + 1] = p[i]!;
  }
  return out;
}

/**
 * Confusion matrix m[true][pred] from class probabilities [n, k] (prediction = argmax) and class
 * indices. With `classWeights` a row of true class y counts classWeights[y] instead of 1 (prior-shift.ts).
 */
export function confusionMatrix(probs: ArrayLike<number>, targets: ArrayLike<number>, n: number, k: number, classWeights?: readonly number[]): number[][] {
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (probs[i * k + j]! > probs[i * k + best]!) best = j;
    const y = targets[i]!;
    if (!Number.isInteger(y) || y < 0 || y >= k) throw new RangeError(`targets[${i}] = ${y} is not a class index in [0, ${k})`);
    m[y]![best]! += classWeights ? classWeights[y]! : 1;
  }
  return m;
}

/** Macro-F1 of a confusion matrix m[true][pred]: the mean F1 over the classes that are true or predicted at least once (NaN when none is). */
export function macroF1OfConfusion(m: readonly (readonly number[])[]): number {
  const k = m.length;
  let f1Sum = 0;
  let f1Count = 0;
  for (let c = 0; c < k; c++) {
    let truePos = 0;
    let predPos = 0;
    for (let j = 0; j < k; j++) {
      truePos += m[c]![j]!;
      predPos += m[j]![c]!;
    }
    if (truePos + predPos > 0) {
      f1Sum += (2 * m[c]![c]!) / (truePos + predPos);
      f1Count++;
    }
  }
  return f1Count ? f1Sum / f1Count : NaN;
}

/**
 * Accuracy, macro-F1 (mean over classes of F1; a class never true nor predicted counts F1 = 0
 * only if it is present in the targets or predictions, else it is left out), balanced accuracy,
 * log-loss (probabilities clipped at 1e-15) and the confusion matrix flattened as
 * `confusion.<true>.<pred>` counts.
 */
export function classificationMetrics(
  probs: ArrayLike<number>,
  targets: ArrayLike<number>,
  n: number,
  classes: readonly string[],
): Record<string, number> {
  const k = classes.length;
  const m = confusionMatrix(probs, targets, n, k);
  let correct = 0;
  let logLoss = 0;
  for (let i = 0; i < n; i++) logLoss -= Math.log(Math.max(EPS, probs[i * k + targets[i]!]!));
  let recallSum = 0;
  let recallCount = 0;
  const out: Record<string, number> = {};
  for (let c = 0; c < k; c++) {
    correct += m[c]![c]!;
    let truePos = 0;
    for (let j = 0; j < k; j++) truePos += m[c]![j]!;
    if (truePos > 0) {
      recallSum += m[c]![c]! / truePos;
      recallCount++;
    }
    for (let j = 0; j < k; j++) out[`confusion.${classes[c]}.${classes[j]}`] = m[c]![j]!;
  }
  return {
    n,
    accuracy: n ? correct / n : NaN,
    macroF1: macroF1OfConfusion(m),
    balancedAccuracy: recallCount ? recallSum / recallCount : NaN,
    logLoss: n ? logLoss / n : NaN,
    ...out,
  };
}

/** Area under the ROC curve of scores for binary labels (rank statistic, ties averaged); NaN if one class is absent. */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>, n: number): number {
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  const ranks = averageRanks(scores, idx);
  let pos = 0;
  let rankSum = 0;
  for (let i = 0; i < n; i++) {
    if (labels[i]! > 0.5) {
      pos++;
      rankSum += ranks[i]!;
    }
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

function averageRanks(x: ArrayLike<number>, sortedIdx: readonly number[]): Float64Array {
  const r = new Float64Array(sortedIdx.length);
  for (let i = 0; i < sortedIdx.length; ) {
    let j = i;
    while (j + 1 < sortedIdx.length && x[sortedIdx[j + 1]!] === x[sortedIdx[i]!]) j++;
    const avg = (i + j) / 2 + 1;
    for (let q = i; q <= j; q++) r[sortedIdx[q]!] = avg;
    i = j + 1;
  }
  return r;
}

function pearson(a: ArrayLike<number>, b: ArrayLike<number>, n: number): number {
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - ma;
    const db = b[i]! - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
}

/** Spearman rank correlation (Pearson on average ranks). */
export function rankCorrelation(a: ArrayLike<number>, b: ArrayLike<number>, n: number): number {
  const ia = Array.from({ length: n }, (_, i) => i).sort((p, q) => a[p]! - a[q]!);
  const ib = Array.from({ length: n }, (_, i) => i).sort((p, q) => b[p]! - b[q]!);
  return pearson(averageRanks(a, ia), averageRanks(b, ib), n);
}

/**
 * MSE, MAE, R^2 = 1 - SSE / SST (SST around the mean of the evaluated targets, so a constant
 * prediction equal to that mean scores 0), Pearson correlation (IC; 0 when either side is
 * constant) and Spearman rank correlation.
 */
export function regressionMetrics(pred: ArrayLike<number>, target: ArrayLike<number>, n: number): Record<string, number> {
  if (n === 0) return { n: 0, mse: NaN, mae: NaN, r2: NaN, correlation: NaN, rankCorrelation: NaN };
  let sse = 0;
  let sae = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    const e = pred[i]! - target[i]!;
    sse += e * e;
    sae += Math.abs(e);
    my += target[i]!;
  }
  my /= n;
  let sst = 0;
  for (let i = 0; i < n; i++) sst += (target[i]! - my) ** 2;
  return {
    n,
    mse: sse / n,
    mae: sae / n,
    r2: sst > 0 ? 1 - sse / sst : NaN,
    correlation: pearson(pred, target, n),
    rankCorrelation: rankCorrelation(pred, target, n),
  };
}

/** Column `col` of a row-major [n, width] array. */
export function column(x: ArrayLike<number>, n: number, width: number, col: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = x[i * width + col]!;
  return out;
}
