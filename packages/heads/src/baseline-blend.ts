/**
 * Forecast combination of a head with its task's best naive baseline, fitted on the validation split
 * (Bates and Granger 1969; stacking, Wolpert 1992). The baseline (persistence for regime and risk,
 * GARCH for volatility, momentum for direction) carries information the head may not fully use; the
 * combination lets validation decide how much of each to keep:
 *
 * - classifiers ('stack'): z_k = a log p_model,k + b log p_baseline,k + c_k, a, b >= 0, c_0 = 0, the
 *   stacked multinomial logistic regression on the two forecasts' log-probabilities, fitted by
 *   class-balanced cross-entropy (each class weighs as much in total, the objective nearest to the
 *   tasks' macro-F1 that is still convex; plain NLL would pull the argmax toward the majority class),
 *   by Newton's method with a backtracking line search (a weight that would go negative is held at 0);
 * - regressions ('convex'): the point forecast (column 0) w x model + (1 - w) x baseline, w in [0, 1]
 *   by least squares (closed form, clipped); the other columns (the return head's log-std) are the head's.
 *
 * Classifiers have a second combination, the stack with its per-class offsets then tuned for the
 * task's metric (macro-F1 decides by the argmax; coordinate ascent on the fitted rows).
 *
 * Which one a head uses is chosen by cross-fitting over folds of the validation rows (time spans):
 * each combination is fitted on all folds but one and predicts that one; the out-of-fold forecasts of
 * 'model' (the head alone), 'baseline' (the baseline alone) and the combinations are scored with the
 * task's own metric on every fold. The choice is the one-standard-error rule (Breiman et al. 1984;
 * Hastie, Tibshirani and Friedman, ESL 7.10): the candidates are ordered from simple to complex
 * (head alone, baseline alone, combined, tuned); the best is the one with the highest mean fold score,
 * and the chosen one is the simplest whose mean fold shortfall against the best is at most the
 * fold-to-fold standard error of that paired difference (sd of the per-fold differences / sqrt(folds)).
 * A more complex candidate thus wins only when it beats the simpler one by more than the noise of the
 * folds. With the rule 'best' (FitBlendOptions.rule) the chosen one is the best itself: on the
 * universal preset's runs, a nested cross-validation over the validation time folds found the best
 * choice generalising to the held-out fold at least as well (trainer README, "Choosing the deployed
 * layer"). Weight 0 on the model is the baseline itself, so validation decides honestly whether the head adds anything.
 */
import type { CandleColumns } from '@task-agnostic/core';
import { softmaxRows } from './metrics.js';
import { tuneClassOffsets } from './class-offsets.js';

/** 'model': the head alone; 'baseline': the baseline alone; 'stack' / 'convex': the fitted combination. */
export type BlendMethod = 'model' | 'baseline' | 'stack' | 'convex';

/** A head's combination with one named baseline of its task; plain JSON (it travels in the model artifact). */
export interface BaselineBlend {
  /** The baseline's name as the task's baseline() reports it (e.g. 'persistence', 'garch+bias', 'momentum'). */
  readonly baseline: string;
  readonly method: BlendMethod;
  /** stack: a (on the head's log-probabilities); convex: w. */
  readonly modelWeight: number;
  /** stack: b (on the baseline's log-probabilities); convex: 1 - w. */
  readonly baselineWeight: number;
  /** stack: c_k per class (c_0 = 0); empty otherwise. */
  readonly offsets: readonly number[];
}

/** The output form a blend reads: class logits, or a point forecast in column 0. */
export type BlendForm = 'classes' | 'point';

/** A candidate of the cross-fitted choice, from the simplest to the most complex. */
export type BlendCandidate = 'model' | 'baseline' | 'combined' | 'tuned';

/** The candidates in order of complexity: the one-standard-error rule prefers the earlier. */
export const BLEND_CANDIDATES: readonly BlendCandidate[] = ['model', 'baseline', 'combined', 'tuned'];

export interface BlendSelection {
  readonly folds: number;
  /**
   * The task metric (higher is better) over all fitted rows of the head alone, the baseline alone, and
   * each combination's out-of-fold forecasts: 'combined' (the stack or the convex blend) and, for
   * classes, 'tuned' (the stack with its offsets tuned for the metric).
   */
  readonly heldOut: Readonly<{ model: number; baseline: number; combined: number; tuned?: number }>;
  /** The rule that chose (FitBlendOptions.rule): with 'oneSe' the blend is oneSe.chosen, with 'best' oneSe.best. */
  readonly rule?: BlendRule;
  /**
   * The one-standard-error rule's figures (absent when fewer than 2 folds could be scored: the best
   * pooled score then decides). Per candidate: the mean of its fold scores, and the mean shortfall of
   * its fold scores against the best candidate's with the standard error of that paired difference,
   * and the fold scores themselves (`scores`, one per fold scored, in fold order).
   */
  readonly oneSe?: Readonly<{
    /** Folds scored (every candidate finite on them). */
    folds: number;
    best: BlendCandidate;
    chosen: BlendCandidate;
    byCandidate: Readonly<Partial<Record<BlendCandidate, Readonly<{ mean: number; shortfall: number; se: number; scores: readonly number[] }>>>>;
  }>;
}

export interface BlendFit extends BaselineBlend {
  /** Rows fitted on. */
  readonly n: number;
  readonly selection: BlendSelection;
  /** Set when the combination could not be fitted (the head is then used alone). */
  readonly warning?: string;
}

/** The head alone (the identity blend). */
export function modelOnlyBlend(baseline: string): BaselineBlend {
  return { baseline, method: 'model', modelWeight: 1, baselineWeight: 0, offsets: [] };
}

/** The baseline alone. */
export function baselineOnlyBlend(baseline: string): BaselineBlend {
  return { baseline, method: 'baseline', modelWeight: 0, baselineWeight: 1, offsets: [] };
}

/** Minimum rows a combination is fitted on (per fold as well); below it the head is used alone. */
export const MIN_BLEND_ROWS = 30;

/** Default folds of the cross-fitted choice when none are given: contiguous blocks of rows. */
export const BLEND_FOLDS = 5;

function logSoftmaxRows(z: ArrayLike<number>, n: number, K: number): Float64Array {
  const p = softmaxRows(z, n, K);
  for (let i = 0; i < p.length; i++) p[i] = Math.log(Math.max(1e-12, p[i]!));
  return p;
}

/**
 * Applies a blend to a head's outputs [n, dim] given the baseline's outputs on the same rows (same
 * shape), into a new array. Classes: 'stack' returns the combined logits, 'baseline' the baseline's
 * outputs; point forecasts change column 0 only.
 */
export function applyBlend(blend: BaselineBlend, form: BlendForm, model: ArrayLike<number>, baseline: ArrayLike<number>, n: number, dim: number): Float32Array {
  if (model.length !== n * dim || baseline.length !== n * dim) {
    throw new RangeError(`blend of ${dim}-column outputs: the head gave ${model.length} values and the baseline ${baseline.length} for ${n} rows`);
  }
  const out = Float32Array.from(model);
  if (blend.method === 'model') return out;
  if (form === 'point') {
    const w = blend.modelWeight;
    const v = blend.baselineWeight;
    for (let i = 0; i < n; i++) out[i * dim] = w * model[i * dim]! + v * baseline[i * dim]!;
    return out;
  }
  if (blend.method === 'baseline') {
    out.set(Array.from(baseline));
    return out;
  }
  const lm = logSoftmaxRows(model, n, dim);
  const lb = logSoftmaxRows(baseline, n, dim);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < dim; k++) out[i * dim + k] = blend.modelWeight * lm[i * dim + k]! + blend.baselineWeight * lb[i * dim + k]! + (blend.offsets[k] ?? 0);
  }
  return out;
}

/** Row weights of inverse class frequency: each class present weighs n / (classes present) in total, so every class counts the same in a weighted cross-entropy. */
export function balancedRowWeights(y: ArrayLike<number>, n: number, K: number): Float64Array {
  const counts = new Float64Array(K);
  for (let i = 0; i < n; i++) counts[y[i]!]!++;
  let present = 0;
  for (const c of counts) if (c > 0) present++;
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = n / (present * counts[y[i]!]!);
  return w;
}

/**
 * The stacked classifier by class-balanced cross-entropy: parameters [a, b, c_1..c_{K-1}] with
 * z_ik = a lm_ik + b lb_ik + c_k. Newton steps (the loss is convex in the parameters) with a
 * backtracking line search; `fixed[j]` holds parameter j at 0. Returns null when a Newton system is singular.
 */
function fitStackNewton(lm: Float64Array, lb: Float64Array, y: ArrayLike<number>, w: Float64Array, n: number, K: number, fixed: readonly boolean[], maxIterations = 100): Float64Array | null {
  const P = K + 1;
  const theta = new Float64Array(P);
  if (!fixed[0]) theta[0] = 1;
  // phi_ik: the features of class k at row i, in parameter order [a, b, c_1..c_{K-1}]
  const phi = (i: number, k: number, j: number): number => (j === 0 ? lm[i * K + k]! : j === 1 ? lb[i * K + k]! : j - 1 === k ? 1 : 0);
  let wsum = 0;
  for (let i = 0; i < n; i++) wsum += w[i]!;
  const z = new Float64Array(K);
  const p = new Float64Array(K);
  const loss = (t: Float64Array): number => stackLoss(lm, lb, y, w, n, K, t);
  let current = loss(theta);
  const g = new Float64Array(P);
  const H = new Float64Array(P * P);
  const mean = new Float64Array(P);
  for (let it = 0; it < maxIterations; it++) {
    g.fill(0);
    H.fill(0);
    for (let i = 0; i < n; i++) {
      const m = stackRow(lm, lb, theta, i, K, z);
      let s = 0;
      for (let k = 0; k < K; k++) {
        p[k] = Math.exp(z[k]! - m);
        s += p[k]!;
      }
      mean.fill(0);
      for (let k = 0; k < K; k++) {
        p[k]! /= s;
        const r = p[k]! - (k === y[i] ? 1 : 0);
        for (let j = 0; j < P; j++) {
          const f = phi(i, k, j);
          g[j]! += (w[i]! * r * f) / wsum;
          mean[j]! += p[k]! * f;
        }
      }
      // Hessian: sum_k p_k phi_k phi_k^T - mean mean^T, weighted
      for (let k = 0; k < K; k++) {
        for (let a = 0; a < P; a++) {
          const fa = phi(i, k, a);
          if (fa === 0) continue;
          for (let b = 0; b < P; b++) H[a * P + b]! += (w[i]! * p[k]! * fa * phi(i, k, b)) / wsum;
        }
      }
      for (let a = 0; a < P; a++) for (let b = 0; b < P; b++) H[a * P + b]! -= (w[i]! * mean[a]! * mean[b]!) / wsum;
    }
    const free = Array.from({ length: P }, (_, j) => !fixed[j]);
    let g2 = 0;
    for (let j = 0; j < P; j++) if (free[j]) g2 += g[j]! ** 2;
    if (g2 < 1e-16) return theta;
    const step = solveFree(H, g, P, free);
    if (!step) return null;
    let t = 1;
    let accepted = false;
    const trial = new Float64Array(P);
    let slope = 0;
    for (let j = 0; j < P; j++) slope -= g[j]! * step[j]!;
    for (let bt = 0; bt < 40; bt++) {
      for (let j = 0; j < P; j++) trial[j] = theta[j]! - t * step[j]!;
      const l = loss(trial);
      if (Number.isFinite(l) && l <= current + 1e-4 * t * slope) {
        const prev = current;
        theta.set(trial);
        current = l;
        accepted = true;
        if (prev - l < 1e-12) return theta;
        break;
      }
      t /= 2;
    }
    // no decrease found along a Newton direction: the loss is flat to rounding, theta is the optimum
    if (!accepted) return theta;
  }
  return theta;
}

/** Row i's stack logits z_k = a lm_ik + b lb_ik + c_k (c_0 = 0) into `z`; returns their maximum. */
function stackRow(lm: Float64Array, lb: Float64Array, t: Float64Array, i: number, K: number, z: Float64Array): number {
  let m = -Infinity;
  for (let k = 0; k < K; k++) {
    z[k] = t[0]! * lm[i * K + k]! + t[1]! * lb[i * K + k]! + (k > 0 ? t[k + 1]! : 0);
    if (z[k]! > m) m = z[k]!;
  }
  return m;
}

/** The class-balanced cross-entropy of the stack with parameters t = [a, b, c_1..c_{K-1}]. */
function stackLoss(lm: Float64Array, lb: Float64Array, y: ArrayLike<number>, w: Float64Array, n: number, K: number, t: Float64Array): number {
  let l = 0;
  let wsum = 0;
  const z = new Float64Array(K);
  for (let i = 0; i < n; i++) {
    const m = stackRow(lm, lb, t, i, K, z);
    let s = 0;
    for (let k = 0; k < K; k++) s += Math.exp(z[k]! - m);
    l += w[i]! * (m + Math.log(s) - z[y[i]!]!);
    wsum += w[i]!;
  }
  return l / wsum;
}

/** Solves H_ff s_f = g_f over the free parameters (Gaussian elimination with a tiny ridge); s = 0 on fixed ones. */
function solveFree(H: Float64Array, g: Float64Array, P: number, free: readonly boolean[]): Float64Array | null {
  const idx = free.map((f, j) => (f ? j : -1)).filter((j) => j >= 0);
  const m = idx.length;
  const A = idx.map((a) => [...idx.map((b) => H[a * P + b]! + (a === b ? 1e-9 : 0)), g[a]!]);
  for (let c = 0; c < m; c++) {
    let piv = c;
    for (let r = c + 1; r < m; r++) if (Math.abs(A[r]![c]!) > Math.abs(A[piv]![c]!)) piv = r;
    if (Math.abs(A[piv]![c]!) < 1e-14) return null;
    [A[c], A[piv]] = [A[piv]!, A[c]!];
    for (let r = 0; r < m; r++) {
      if (r === c) continue;
      const f = A[r]![c]! / A[c]![c]!;
      for (let k = c; k <= m; k++) A[r]![k]! -= f * A[c]![k]!;
    }
  }
  const s = new Float64Array(P);
  idx.forEach((j, r) => {
    s[j] = A[r]![m]! / A[r]![r]!;
  });
  return s.every(Number.isFinite) ? s : null;
}

/**
 * The stacked combination of two classifiers' logits [n, K] by class-balanced cross-entropy, with
 * a, b >= 0 (active set: a weight whose free optimum is negative is held at 0 and the rest refitted).
 * Null when the fit does not converge.
 */
export function fitStackedClassifier(model: ArrayLike<number>, baseline: ArrayLike<number>, labels: ArrayLike<number>, n: number, K: number): BaselineBlend | null {
  const lm = logSoftmaxRows(model, n, K);
  const lb = logSoftmaxRows(baseline, n, K);
  const w = balancedRowWeights(labels, n, K);
  // the constrained optimum of a convex loss: the feasible optimum with the lowest loss over the active sets (free, a = 0, b = 0, both = 0)
  let best: { t: Float64Array; loss: number } | null = null;
  for (const [fa, fb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    const t = fitStackNewton(lm, lb, labels, w, n, K, [fa, fb, ...Array.from({ length: K - 1 }, () => false)]);
    if (!t || t[0]! < 0 || t[1]! < 0) continue;
    const loss = stackLoss(lm, lb, labels, w, n, K, t);
    if (Number.isFinite(loss) && (!best || loss < best.loss - 1e-12)) best = { t, loss };
  }
  if (!best) return null;
  const t = best.t;
  return { baseline: '', method: 'stack', modelWeight: t[0]!, baselineWeight: t[1]!, offsets: [0, ...Array.from(t.subarray(2))] };
}

/** The convex combination of two point forecasts: w = clip(sum((y - b)(m - b)) / sum((m - b)^2), 0, 1). */
export function fitConvexBlend(model: ArrayLike<number>, baseline: ArrayLike<number>, targets: ArrayLike<number>, n: number, dim: number, targetDim = 1): BaselineBlend {
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    const d = model[i * dim]! - baseline[i * dim]!;
    num += (targets[i * targetDim]! - baseline[i * dim]!) * d;
    den += d * d;
  }
  const w = den > 1e-12 * n ? Math.min(1, Math.max(0, num / den)) : 1;
  return { baseline: '', method: 'convex', modelWeight: w, baselineWeight: 1 - w, offsets: [] };
}

/**
 * How the cross-fitted choice picks among the candidates from their fold scores: 'oneSe' (the
 * one-standard-error rule: the simplest within one fold-to-fold standard error of the best) or
 * 'best' (the highest mean fold score; ties keep the simpler).
 */
export type BlendRule = 'oneSe' | 'best';

export interface FitBlendOptions {
  /** Fold id of every row (e.g. spans of calendar time); default BLEND_FOLDS contiguous blocks. */
  readonly folds?: ArrayLike<number>;
  /** The choice's rule (default 'oneSe'). */
  readonly rule?: BlendRule;
}

function pick(a: ArrayLike<number>, idx: readonly number[], dim: number): Float64Array {
  const out = new Float64Array(idx.length * dim);
  idx.forEach((r, k) => {
    for (let j = 0; j < dim; j++) out[k * dim + j] = a[r * dim + j]!;
  });
  return out;
}

/** One cross-fitting fold: its id, the rows fitted on (all others) and the rows it predicts. */
export interface CrossFitFold {
  readonly id: number;
  readonly fit: number[];
  readonly held: number[];
}

/**
 * The folds of n rows for cross-fitting: `folds` gives each row's fold id (e.g. spans of calendar
 * time); without it, BLEND_FOLDS contiguous blocks. In ascending id order; every fold holds >= 1 row.
 */
export function crossFitFolds(n: number, folds?: ArrayLike<number>): CrossFitFold[] {
  const foldOf = (i: number): number => (folds ? folds[i]! : Math.min(BLEND_FOLDS - 1, Math.floor((i * BLEND_FOLDS) / n)));
  const ids = [...new Set(Array.from({ length: n }, (_, i) => foldOf(i)))].sort((a, b) => a - b);
  return ids.map((id) => {
    const fit: number[] = [];
    const held: number[] = [];
    for (let i = 0; i < n; i++) (foldOf(i) === id ? held : fit).push(i);
    return { id, fit, held };
  });
}

function allFinite(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return false;
  return true;
}

/**
 * Fits a head's combination with the baseline `name` on validation rows and chooses, by cross-fitting,
 * among the head alone, the baseline alone and the combination. `score(outputs, targets, n)` is the
 * task's metric, higher is better (pass -MSE for a regression). `targets` are [n, targetDim].
 */
export function fitBlend(
  name: string,
  form: BlendForm,
  model: ArrayLike<number>,
  baseline: ArrayLike<number>,
  targets: ArrayLike<number>,
  n: number,
  dim: number,
  targetDim: number,
  score: (outputs: Float32Array, targets: Float32Array, n: number) => number,
  options: FitBlendOptions = {},
): BlendFit {
  // the combinations: classes 'combined' (class-balanced cross-entropy) and 'tuned' (its offsets then tuned for the metric); points 'combined'
  const kinds: readonly ('combined' | 'tuned')[] = form === 'classes' ? ['combined', 'tuned'] : ['combined'];
  const fitOn = (idx: readonly number[], kind: 'combined' | 'tuned'): BaselineBlend | null => {
    const m = pick(model, idx, dim);
    const b = pick(baseline, idx, dim);
    const y = pick(targets, idx, targetDim);
    if (form === 'point') return fitConvexBlend(m, b, y, idx.length, dim, targetDim);
    const stack = fitStackedClassifier(m, b, y, idx.length, dim);
    return stack && kind === 'tuned' ? tuneOffsets(stack, m, b, Float32Array.from(y), idx.length, dim, score) : stack;
  };
  const none: BlendSelection = { folds: 0, heldOut: { model: Number.NaN, baseline: Number.NaN, combined: Number.NaN }, rule: options.rule ?? 'oneSe' };
  const alone = (warning: string): BlendFit => ({ ...modelOnlyBlend(name), n, selection: none, warning });
  if (n < MIN_BLEND_ROWS) return alone(`${n} validation rows, fewer than ${MIN_BLEND_ROWS}: the head is used alone`);
  if (model.length !== n * dim || baseline.length !== n * dim) throw new RangeError(`fitBlend: ${model.length} head and ${baseline.length} baseline values for ${n} rows of ${dim}`);
  if (!allFinite(model) || !allFinite(baseline) || !allFinite(targets)) return alone('non-finite head outputs, baseline outputs or targets on the validation rows: the head is used alone');
  if (options.folds && options.folds.length !== n) throw new RangeError(`fitBlend: ${options.folds.length} fold ids for ${n} rows`);
  const cv = crossFitFolds(n, options.folds);
  const oof = new Map(kinds.map((k) => [k, new Float32Array(n * dim)] as const));
  let folds = 0;
  let failed: string | null = null;
  for (const { id: f, fit: inIdx, held: outIdx } of cv) {
    for (const kind of kinds) {
      const fit = inIdx.length >= MIN_BLEND_ROWS ? fitOn(inIdx, kind) : null;
      if (!fit) {
        failed = `the combination could not be fitted without fold ${f}`;
        break;
      }
      const pred = applyBlend(fit, form, pick(model, outIdx, dim), pick(baseline, outIdx, dim), outIdx.length, dim);
      const o = oof.get(kind)!;
      outIdx.forEach((r, k) => o.set(pred.subarray(k * dim, (k + 1) * dim), r * dim));
    }
    if (failed) break;
    folds++;
  }
  const y = Float32Array.from(targets);
  const usable = !failed && folds >= 2;
  // the candidates' forecasts on every row (the combinations' out of fold), scored over all rows and fold by fold
  const forecasts: Record<string, ArrayLike<number>> = { model, baseline: applyBlend(baselineOnlyBlend(name), form, model, baseline, n, dim) };
  for (const kind of kinds) forecasts[kind] = oof.get(kind)!;
  const heldOut: Record<string, number> = { model: score(Float32Array.from(model), y, n), baseline: score(forecasts.baseline as Float32Array, y, n) };
  for (const kind of kinds) heldOut[kind] = usable ? score(oof.get(kind)!, y, n) : Number.NaN;
  const candidates: BlendCandidate[] = ['model', 'baseline', ...(usable ? kinds : [])];
  const foldScores = (c: BlendCandidate): number[] =>
    cv.map(({ held: idx }) => (idx.length > 0 ? score(Float32Array.from(pick(forecasts[c]!, idx, dim)), Float32Array.from(pick(targets, idx, targetDim)), idx.length) : Number.NaN));
  const oneSe = oneStandardErrorChoice(candidates, Object.fromEntries(candidates.map((c) => [c, foldScores(c)])) as Record<BlendCandidate, number[]>);
  const selection: BlendSelection = { folds, heldOut: heldOut as BlendSelection['heldOut'], rule: options.rule ?? 'oneSe', ...(oneSe ? { oneSe } : {}) };
  // fewer than 2 scorable folds: the best pooled out-of-fold score; ties keep the earlier (simpler) candidate
  let chosen: BlendCandidate = 'model';
  if (oneSe) chosen = ruleChoice(oneSe, options.rule);
  else for (const c of candidates) if (heldOut[c]! > heldOut[chosen]!) chosen = c;
  const warn = failed ? { warning: `${failed}: chosen between the head and the baseline alone` } : {};
  if (chosen === 'model') return { ...modelOnlyBlend(name), n, selection, ...warn };
  if (chosen === 'baseline') return { ...baselineOnlyBlend(name), n, selection, ...warn };
  const all = fitOn(Array.from({ length: n }, (_, i) => i), chosen as 'combined' | 'tuned');
  if (!all) return { ...modelOnlyBlend(name), n, selection, warning: 'the combination did not converge on all the rows: the head is used alone' };
  return { ...all, baseline: name, n, selection };
}

/** The candidate a rule deploys from the one-SE figures: the best with 'best', else the one-SE choice. */
export function ruleChoice(oneSe: Pick<NonNullable<BlendSelection['oneSe']>, 'best' | 'chosen'>, rule: BlendRule = 'oneSe'): BlendCandidate {
  return rule === 'best' ? oneSe.best : oneSe.chosen;
}

/**
 * The one-standard-error rule over candidates in order of complexity, given each one's scores on the
 * same folds (higher is better). Folds where any candidate's score is not finite are left out; null
 * when fewer than 2 remain. best = the highest mean fold score (ties: the simpler); chosen = the
 * simplest candidate c with mean_f(best_f - c_f) <= sd_f(best_f - c_f) / sqrt(F) (sd with F - 1).
 */
export function oneStandardErrorChoice(candidates: readonly BlendCandidate[], scores: Readonly<Record<BlendCandidate, readonly number[]>>): NonNullable<BlendSelection['oneSe']> | null {
  if (candidates.length === 0) return null;
  const F = scores[candidates[0]!]!.length;
  const keep: number[] = [];
  for (let f = 0; f < F; f++) if (candidates.every((c) => Number.isFinite(scores[c]![f]))) keep.push(f);
  if (keep.length < 2) return null;
  const mean = (a: readonly number[]): number => a.reduce((x, y) => x + y, 0) / a.length;
  const means = candidates.map((c) => mean(keep.map((f) => scores[c]![f]!)));
  let b = 0;
  for (let j = 1; j < candidates.length; j++) if (means[j]! > means[b]!) b = j;
  const best = candidates[b]!;
  const byCandidate: Partial<Record<BlendCandidate, { mean: number; shortfall: number; se: number; scores: number[] }>> = {};
  let chosen: BlendCandidate | null = null;
  candidates.forEach((c, j) => {
    const d = keep.map((f) => scores[best]![f]! - scores[c]![f]!);
    const m = mean(d);
    const sd = Math.sqrt(d.reduce((acc, x) => acc + (x - m) ** 2, 0) / (d.length - 1));
    const se = sd / Math.sqrt(d.length);
    byCandidate[c] = { mean: means[j]!, shortfall: m, se, scores: keep.map((f) => scores[c]![f]!) };
    if (chosen === null && m <= se) chosen = c;
  });
  return { folds: keep.length, best, chosen: chosen ?? best, byCandidate };
}

/**
 * The stack's per-class offsets tuned for the task's metric (e.g. macro-F1, which decides by the
 * argmax) on the fitted rows: coordinate ascent, one class at a time (c_0 stays 0), over shifts of
 * -1.5..1.5 in steps of 0.1, keeping a shift only when it raises the metric (tuneClassOffsets).
 */
export function tuneOffsets(
  stack: BaselineBlend,
  model: ArrayLike<number>,
  baseline: ArrayLike<number>,
  targets: Float32Array,
  n: number,
  K: number,
  score: (outputs: Float32Array, targets: Float32Array, n: number) => number,
): BaselineBlend {
  const base = applyBlend({ ...stack, offsets: Array.from({ length: K }, () => 0) }, 'classes', model, baseline, n, K);
  return { ...stack, offsets: tuneClassOffsets(base, targets, n, K, score, stack.offsets) };
}

/** What baselineForecasts needs of a task: its horizon and its baselines. */
export interface BaselineSource {
  readonly horizon: number;
  baseline?(candles: CandleColumns, state: Readonly<Record<string, unknown>>, rows: ArrayLike<number>): readonly { readonly name: string; readonly outputs?: Float32Array }[];
}

/**
 * The baselines' forecasts (outputs) on candle rows, including rows whose label cannot be formed yet
 * (the latest bars at inference). A baseline at row t reads bars <= t only (the Task contract, proven
 * by the tasks' tests), so the candles up to the last row are followed by `horizon` flat bars (the
 * last close repeated) only so that every row has a label to score: the labels are discarded and the
 * forecasts are those of the real bars. Rows with valid labels give exactly task.baseline()'s outputs.
 */
export function baselineForecasts(task: BaselineSource, candles: CandleColumns, state: Readonly<Record<string, unknown>>, rows: ArrayLike<number>): Map<string, Float32Array> {
  if (!task.baseline) return new Map();
  let last = -1;
  for (let i = 0; i < rows.length; i++) last = Math.max(last, rows[i]!);
  if (last < 0) return new Map();
  if (last >= candles.length) throw new RangeError(`baselineForecasts: row ${last} is beyond the ${candles.length} candles`);
  const h = task.horizon;
  const n = last + 1 + h;
  const step = last > 0 ? candles.tsMs[last]! - candles.tsMs[last - 1]! : 3_600_000;
  const pad = (a: Float64Array, v: (j: number) => number): Float64Array => {
    const out = new Float64Array(n);
    out.set(a.subarray(0, last + 1));
    for (let j = last + 1; j < n; j++) out[j] = v(j);
    return out;
  };
  const c = candles.close[last]!;
  const padded: CandleColumns = {
    length: n,
    tsMs: pad(candles.tsMs, (j) => candles.tsMs[last]! + (j - last) * step),
    open: pad(candles.open, () => c),
    high: pad(candles.high, () => c),
    low: pad(candles.low, () => c),
    close: pad(candles.close, () => c),
    volume: pad(candles.volume, () => candles.volume[last]!),
    turnover: pad(candles.turnover, () => candles.turnover[last]!),
  };
  const out = new Map<string, Float32Array>();
  for (const b of task.baseline(padded, state, rows)) if (b.outputs) out.set(b.name, b.outputs);
  return out;
}
