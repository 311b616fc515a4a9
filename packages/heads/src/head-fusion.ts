/**
 * A classification task's answer fused from the model's own heads (a cross-head stack, fitted on the
 * validation split), for any K-class task whose label is partly a volatility grade against the
 * symbol's training vol cuts (risk: the worse of a drawdown grade and a vol grade; regime: high / low
 * volatility against its q80 / q20 cuts, and the vol level decides sideways vs low). The fused
 * probabilities are a multinomial logistic regression (multinomial-logistic.ts, plain
 * cross-entropy: calibrated probabilities) on, in this order (headFusionFeatureNames):
 *
 * - the fused task's head logits against class 0 (K - 1 values),
 * - the volatility head's forecast of ln rv (over the volatility task's horizon) minus the log of
 *   each of the fused task's two vol cuts (rv over the fused task's own horizon; the regression
 *   learns the mapping between the horizons),
 * - the trailing realised vol (the volatility task's persistence baseline) minus the same two cuts,
 * - the fused task's persistence baseline's class (K - 1 indicators, class 0 the reference),
 * - optionally the direction head's logits against its class 0 (a view of the forward trend),
 * - optionally, over the trailing `trailingBars` bars (t - h, t]: the trend z = sum r / sqrt(sum r^2)
 *   and ln rv minus the two cuts (the continuous inputs persistence's class is a coarse grade of),
 *
 * then per-class offsets tuned for the metric on the fitted rows (class-offsets.ts). The vol inputs
 * are measured against the symbol's own cuts, so when a period is more volatile than the fitted one
 * the class mix follows. Whether a fusion is used is decided by the caller from the out-of-fold
 * scores of fitHeadFusion (cross-fitting over the same folds as the baseline blends).
 */
import { fitMultinomialLogistic, multinomialLogits } from './multinomial-logistic.js';
import { tuneClassOffsets } from './class-offsets.js';
import { balancedRowWeights, crossFitFolds } from './baseline-blend.js';
import { gatherTargets } from './config.js';
import { classRowWeights } from './prior-shift.js';

/** What a fusion's features are built from (besides the vol inputs every fusion reads). */
export interface HeadFusionSpec {
  /** The fused task's id and its classes (names used in the feature names; class 0 is the reference). */
  readonly task: string;
  readonly classes: readonly string[];
  /** The direction head's classes when its logits are fed (absent: not fed). */
  readonly directionClasses?: readonly string[];
  /** Bars of the trailing window whose trend z and ln rv are fed (absent: not fed). */
  readonly trailingBars?: number;
  /** false: the fused task's own head logits are not fed (default true). */
  readonly head?: boolean;
}

/** A task's class names (the classifiers of this package carry them), or their indices when it has none that fit its outputs. */
export function taskClasses(t: { readonly outputDim: number; readonly classes?: readonly string[] }): readonly string[] {
  const c = t.classes;
  return c && c.length === t.outputDim ? c : Array.from({ length: t.outputDim }, (_, k) => String(k));
}

/** The feature names of a fusion (the order of the weight rows 1..F). */
export function headFusionFeatureNames(spec: HeadFusionSpec): string[] {
  const c = spec.classes;
  const names = spec.head === false ? [] : c.slice(1).map((k) => `${spec.task}Head:${k}-${c[0]}`);
  names.push('volHead-ln(volCut0)', 'volHead-ln(volCut1)', 'trailingVol-ln(volCut0)', 'trailingVol-ln(volCut1)');
  names.push(...c.slice(1).map((k) => `persistence=${k}`));
  const d = spec.directionClasses;
  if (d) names.push(...d.slice(1).map((k) => `directionHead:${k}-${d[0]}`));
  if (spec.trailingBars !== undefined) {
    const h = spec.trailingBars;
    names.push(`trailingTrendZ(${h})`, `trailingLnRv(${h})-ln(volCut0)`, `trailingLnRv(${h})-ln(volCut1)`);
  }
  return names;
}

/** The trailing-window statistics of rows (bars (t - h, t] of `close`; fewer at the series start). */
export interface TrailingWindowStats {
  /** sum r / sqrt(sum r^2) of the one-bar log returns (0 without returns). */
  readonly z: Float64Array;
  /** sqrt(mean r^2) (NaN without returns). */
  readonly rv: Float64Array;
}

/** Trend z and realised vol of the one-bar log returns over (t - h, t] for each row t (bars <= t only). */
export function trailingWindowStats(close: ArrayLike<number>, rows: ArrayLike<number>, h: number): TrailingWindowStats {
  if (!(Number.isInteger(h) && h >= 1)) throw new RangeError(`trailingWindowStats: window ${h} must be a positive integer`);
  const n = rows.length;
  const z = new Float64Array(n);
  const rv = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = rows[i]!;
    if (!(Number.isInteger(t) && t >= 0 && t < close.length)) throw new RangeError(`trailingWindowStats: row ${t} outside the ${close.length} bars`);
    let s = 0;
    let q = 0;
    let m = 0;
    for (let k = Math.max(1, t - h + 1); k <= t; k++) {
      const r = Math.log(close[k]! / close[k - 1]!);
      s += r;
      q += r * r;
      m++;
    }
    z[i] = q > 0 ? s / Math.sqrt(q) : 0;
    rv[i] = m > 0 ? Math.sqrt(q / m) : Number.NaN;
  }
  return { z, rv };
}

/** What the features are computed from, for n rows of one symbol. */
export interface HeadFusionInputs {
  /** The fused task's head's raw logits [n x K]. */
  readonly headLogits: ArrayLike<number>;
  /** The fused task's persistence baseline outputs [n x K] (the trailing window's class as logits). */
  readonly persistence: ArrayLike<number>;
  /** The volatility head's forecast [n]: ln rv - centre (after its calibration, before any blend). */
  readonly volForecast: ArrayLike<number>;
  /** The volatility task's persistence baseline [n]: ln(trailing rv) - centre. */
  readonly trailingVol: ArrayLike<number>;
  /** The volatility task state's centre (mean training ln rv) of this symbol. */
  readonly volCentre: number;
  /** The fused task state's vol cuts of this symbol (rv, not logs). */
  readonly volCuts: readonly [number, number];
  /** The direction head's raw logits [n x Kd] (when the spec feeds them). */
  readonly directionLogits?: ArrayLike<number>;
  /** The trailing-window statistics of the rows (when the spec feeds them; trailingWindowStats). */
  readonly trailing?: TrailingWindowStats;
}

function argmaxRow(a: ArrayLike<number>, i: number, K: number): number {
  let best = 0;
  for (let k = 1; k < K; k++) if (a[i * K + k]! > a[i * K + best]!) best = k;
  return best;
}

/** The features [n x F] of a fusion (headFusionFeatureNames order). Throws on bad shapes or cuts. */
export function headFusionFeatures(spec: HeadFusionSpec, inp: HeadFusionInputs, n: number): Float64Array {
  const K = spec.classes.length;
  const Kd = spec.directionClasses?.length ?? 0;
  const tag = `${spec.task} fusion`;
  if (inp.headLogits.length !== n * K || inp.persistence.length !== n * K || inp.volForecast.length !== n || inp.trailingVol.length !== n) {
    const kind = spec.task === 'risk' ? 'risk logits' : `${spec.task} logits`;
    throw new RangeError(`${tag}: ${inp.headLogits.length} ${kind}, ${inp.persistence.length} persistence values, ${inp.volForecast.length} vol forecasts and ${inp.trailingVol.length} trailing vols for ${n} rows`);
  }
  if (Kd > 0 && inp.directionLogits?.length !== n * Kd) throw new RangeError(`${tag}: ${inp.directionLogits?.length ?? 0} direction logits for ${n} rows of ${Kd} classes`);
  if (spec.trailingBars !== undefined && (inp.trailing?.z.length !== n || inp.trailing.rv.length !== n)) throw new RangeError(`${tag}: trailing-window statistics of ${inp.trailing?.z.length ?? 0} rows for ${n} rows`);
  const [c0, c1] = inp.volCuts;
  if (!(c0 > 0 && c1 > 0) || !Number.isFinite(inp.volCentre)) throw new RangeError(`${tag}: vol cuts ${c0}, ${c1} must be positive and the centre finite (got ${inp.volCentre})`);
  const lc0 = Math.log(c0);
  const lc1 = Math.log(c1);
  const l0 = lc0 - inp.volCentre;
  const l1 = lc1 - inp.volCentre;
  const withHead = spec.head !== false;
  const F = (withHead ? K - 1 : 0) + (K - 1) + 4 + (Kd > 0 ? Kd - 1 : 0) + (spec.trailingBars !== undefined ? 3 : 0);
  const X = new Float64Array(n * F);
  const g = inp.headLogits;
  for (let i = 0; i < n; i++) {
    let j = i * F;
    if (withHead) for (let k = 1; k < K; k++) X[j++] = g[i * K + k]! - g[i * K]!;
    const v = inp.volForecast[i]!;
    const tv = inp.trailingVol[i]!;
    X[j++] = v - l0;
    X[j++] = v - l1;
    X[j++] = tv - l0;
    X[j++] = tv - l1;
    const p = argmaxRow(inp.persistence, i, K);
    for (let k = 1; k < K; k++) X[j++] = p === k ? 1 : 0;
    if (Kd > 0) {
      const d = inp.directionLogits!;
      for (let k = 1; k < Kd; k++) X[j++] = d[i * Kd + k]! - d[i * Kd]!;
    }
    if (spec.trailingBars !== undefined) {
      const rv = inp.trailing!.rv[i]!;
      // without a trailing return the window's vol is taken midway between the cuts
      const lr = rv > 0 ? Math.log(rv) : (lc0 + lc1) / 2;
      X[j++] = inp.trailing!.z[i]!;
      X[j++] = lr - lc0;
      X[j++] = lr - lc1;
    }
  }
  return X;
}

/** The fitted part of a fusion: row-major [(F + 1) x K] weights (intercepts first; column 0 is 0) and K offsets (offsets[0] = 0). */
export interface HeadFusionWeights {
  readonly weights: readonly number[];
  readonly offsets: readonly number[];
}

/** The fused logits [n x K] (weights, then offsets) from the features [n x F]; K = offsets, F = weights / K - 1. */
export function applyHeadFusion(fusion: HeadFusionWeights, features: ArrayLike<number>, n: number): Float32Array {
  const K = fusion.offsets.length;
  const F = fusion.weights.length / K - 1;
  if (K < 2 || !Number.isInteger(F) || F < 1) throw new RangeError(`head fusion: ${fusion.weights.length} weights and ${K} offsets do not make a (features + 1) x classes matrix`);
  if (features.length !== n * F) throw new RangeError(`head fusion: ${features.length} feature values for ${n} rows of ${F} features`);
  const z = multinomialLogits(fusion.weights, features, n, F, K);
  const out = new Float32Array(n * K);
  for (let i = 0; i < n; i++) for (let k = 0; k < K; k++) out[i * K + k] = z[i * K + k]! + fusion.offsets[k]!;
  return out;
}

type Score = (outputs: Float32Array, targets: Float32Array, n: number) => number;

/** The fusion fitted on rows `idx` of the features: the regression, then its offsets tuned for `score`. */
function fitOn(X: Float64Array, y: Float32Array, idx: readonly number[], F: number, K: number, score: Score, balanced: boolean, classWeights?: readonly number[]): { weights: number[]; offsets: number[] } {
  const m = idx.length;
  const Xs = new Float64Array(m * F);
  const ys = new Float32Array(m);
  idx.forEach((r, k) => {
    Xs.set(X.subarray(r * F, (r + 1) * F), k * F);
    ys[k] = y[r]!;
  });
  // class-balanced weights are the same whatever the rows' class mix (each class totals m / classes present), so prior-shift weights only enter the plain fit
  const fit = fitMultinomialLogistic(Xs, ys, m, F, K, balanced ? { weights: balancedRowWeights(ys, m, K) } : classWeights ? { weights: classRowWeights(ys, m, classWeights) } : {});
  const z = multinomialLogits(fit.weights, Xs, m, F, K);
  const offsets = tuneClassOffsets(z, ys, m, K, score);
  return { weights: Array.from(fit.weights), offsets };
}

export interface HeadFusionFit {
  /** The fusion fitted on all the rows (null when there were too few rows or a class is missing). */
  readonly fusion: { readonly features: string[]; readonly weights: number[]; readonly offsets: number[] } | null;
  readonly n: number;
  readonly folds: number;
  /** The metric over all rows of the head alone and of the fusion's out-of-fold forecasts (NaN when not cross-fitted). */
  readonly heldOut: { readonly model: number; readonly fusion: number };
  /** Per fold (crossFitFolds order): the metric of the head alone and of the fusion's out-of-fold forecasts on that fold's rows. */
  readonly foldScores: readonly { readonly model: number; readonly fusion: number }[];
  readonly warning?: string;
}

/** How a fusion is fitted. */
export interface HeadFusionFitOptions {
  /** The task's name in warnings (default 'task'). */
  readonly taskName?: string;
  /**
   * Class-balanced cross-entropy (balancedRowWeights; default false: plain, calibrated probabilities),
   * as the baseline blends' stacks are fitted: for a macro-averaged metric with rare classes.
   */
  readonly balanced?: boolean;
  /**
   * Prior-shift weights (prior-shift.ts): a row of class k weighs classWeights[k] in the plain
   * cross-entropy (a balanced fit is unchanged by them). The metric that tunes the offsets and scores
   * the folds is the caller's `score`: pass a weighted one (weightedMacroF1) with the same weights.
   */
  readonly classWeights?: readonly number[];
}

/** Minimum rows (and rows per fitting fold) of a fusion fit. */
export const MIN_FUSION_ROWS = 100;

/**
 * Fits a fusion on validation rows (`features` [n x names.length] from headFusionFeatures, labels y
 * in 0..K-1, K = the head's logits per row) and scores it out of fold: each fold's rows are
 * predicted by the fusion fitted on the others (`folds`: a fold id per row, e.g. spans of calendar
 * time; default BLEND_FOLDS contiguous blocks: crossFitFolds). The caller compares heldOut.fusion
 * with the alternatives' out-of-fold scores on the same rows.
 */
export function fitHeadFusion(
  names: readonly string[],
  features: Float64Array,
  y: Float32Array,
  headLogits: ArrayLike<number>,
  n: number,
  K: number,
  score: Score,
  folds?: ArrayLike<number>,
  options: HeadFusionFitOptions = {},
): HeadFusionFit {
  const taskName = options.taskName ?? 'task';
  const balanced = options.balanced === true;
  const F = names.length;
  if (features.length !== n * F || y.length !== n || headLogits.length !== n * K) throw new RangeError(`fitHeadFusion: ${features.length} feature values, ${y.length} labels and ${headLogits.length} logits for ${n} rows of ${F} features and ${K} classes`);
  const model = score(Float32Array.from(headLogits), y, n);
  const none = (warning: string): HeadFusionFit => ({ fusion: null, n, folds: 0, heldOut: { model, fusion: Number.NaN }, foldScores: [], warning });
  if (n < MIN_FUSION_ROWS) return none(`${n} validation rows, fewer than ${MIN_FUSION_ROWS}`);
  for (const v of features) if (!Number.isFinite(v)) return none('non-finite fusion features on the validation rows');
  const present = new Set(Array.from(y));
  if (present.size < K) return none(`the validation rows hold ${present.size} of the ${K} ${taskName} classes`);
  if (folds && folds.length !== n) throw new RangeError(`fitHeadFusion: ${folds.length} fold ids for ${n} rows`);
  const oof = new Float32Array(n * K);
  const foldScores: { model: number; fusion: number }[] = [];
  for (const { id: f, fit: inIdx, held: outIdx } of crossFitFolds(n, folds)) {
    if (inIdx.length < MIN_FUSION_ROWS) return none(`fold ${f} leaves ${inIdx.length} rows to fit on`);
    const fit = fitOn(features, y, inIdx, F, K, score, balanced, options.classWeights);
    const Xo = new Float64Array(outIdx.length * F);
    outIdx.forEach((r, k) => Xo.set(features.subarray(r * F, (r + 1) * F), k * F));
    const z = applyHeadFusion(fit, Xo, outIdx.length);
    outIdx.forEach((r, k) => oof.set(z.subarray(k * K, (k + 1) * K), r * K));
    const yo = gatherTargets(y, 1, outIdx);
    foldScores.push({ model: score(gatherTargets(headLogits, K, outIdx), yo, outIdx.length), fusion: score(z, yo, outIdx.length) });
  }
  const done = foldScores.length;
  const all = fitOn(features, y, Array.from({ length: n }, (_, i) => i), F, K, score, balanced, options.classWeights);
  return {
    fusion: { features: [...names], weights: all.weights, offsets: all.offsets },
    n,
    folds: done,
    heldOut: { model, fusion: done >= 2 ? score(oof, y, n) : Number.NaN },
    foldScores,
  };
}

/** A fusion as the model stores it: which heads it reads, its feature names and its fitted weights. */
export interface HeadFusionData extends HeadFusionWeights {
  /** The task whose answer the fusion replaces, and the regression volatility task it reads. */
  readonly task: string;
  readonly volatilityTask: string;
  /** The classification direction task whose logits it reads (absent: none). */
  readonly directionTask?: string;
  /** Bars of the trailing window whose trend z and ln rv it reads (absent: none). */
  readonly trailingBars?: number;
  /** false: it does not read the fused task's head logits (absent: it does). */
  readonly head?: boolean;
  readonly features: readonly string[];
}

/** The rows' outputs a fusion reads, for one symbol (each baseline computed on bars <= its row). */
export interface HeadFusionRows {
  /** The fused task's head raw logits [n x K]. */
  readonly headLogits: ArrayLike<number>;
  /** The volatility head's calibrated forecast [n] (before any blend). */
  readonly volForecast: ArrayLike<number>;
  /** The fused task's persistence baseline outputs [n x K]. */
  readonly persistence: ArrayLike<number>;
  /** The volatility task's persistence baseline [n]. */
  readonly trailingVol: ArrayLike<number>;
  /** The direction head's raw logits [n x Kd] (when the fusion reads a direction task). */
  readonly directionLogits?: ArrayLike<number>;
  /** The candles' closes and the rows' bar indices (when the fusion reads a trailing window). */
  readonly close?: ArrayLike<number>;
  readonly rows?: ArrayLike<number>;
}

/**
 * The fused logits [n x K] of one symbol's rows, as every evaluation and the model's own predictions
 * apply them: the vol cuts read from the fused task's state (`volCuts`), the centre from the
 * volatility task's state. `classes` of the fused task and `directionClasses` name the features
 * (checked against the fusion's). Throws a RangeError naming a missing state field or input.
 */
export function fusedHeadLogits(
  fusion: HeadFusionData,
  classes: readonly string[],
  directionClasses: readonly string[] | undefined,
  inp: HeadFusionRows,
  fusedState: Readonly<Record<string, unknown>>,
  volState: Readonly<Record<string, unknown>>,
  n: number,
): Float32Array {
  const cuts = fusedState.volCuts;
  const centre = volState.centre;
  if (!Array.isArray(cuts) || cuts.length !== 2 || typeof cuts[0] !== 'number' || typeof cuts[1] !== 'number') throw new RangeError(`${fusion.task} fusion: the ${fusion.task} task state has no volCuts pair`);
  if (typeof centre !== 'number') throw new RangeError(`${fusion.task} fusion: the volatility task state has no centre`);
  const spec = fusionSpec(fusion, classes, directionClasses);
  let trailing: TrailingWindowStats | undefined;
  if (spec.trailingBars !== undefined) {
    if (!inp.close || !inp.rows) throw new RangeError(`${fusion.task} fusion: reads a trailing window of ${spec.trailingBars} bars but was given no candles`);
    trailing = trailingWindowStats(inp.close, inp.rows, spec.trailingBars);
  }
  const X = headFusionFeatures(spec, { headLogits: inp.headLogits, persistence: inp.persistence, volForecast: inp.volForecast, trailingVol: inp.trailingVol, volCentre: centre, volCuts: [cuts[0], cuts[1]], ...(inp.directionLogits ? { directionLogits: inp.directionLogits } : {}), ...(trailing ? { trailing } : {}) }, n);
  return applyHeadFusion(fusion, X, n);
}

/** The feature spec of a stored fusion; throws when its feature names are not the ones these classes make. */
export function fusionSpec(fusion: Pick<HeadFusionData, 'task' | 'directionTask' | 'trailingBars' | 'head' | 'features'>, classes: readonly string[], directionClasses: readonly string[] | undefined): HeadFusionSpec {
  if (fusion.directionTask !== undefined && !directionClasses) throw new RangeError(`${fusion.task} fusion: reads the direction task '${fusion.directionTask}' but its classes were not given`);
  const spec: HeadFusionSpec = {
    task: fusion.task,
    classes,
    ...(fusion.directionTask !== undefined ? { directionClasses: directionClasses! } : {}),
    ...(fusion.trailingBars !== undefined ? { trailingBars: fusion.trailingBars } : {}),
    ...(fusion.head === false ? { head: false } : {}),
  };
  const want = headFusionFeatureNames(spec);
  if (want.join(',') !== fusion.features.join(',')) throw new RangeError(`${fusion.task} fusion: its features (${fusion.features.join(', ')}) are not the ones this heads package computes (${want.join(', ')})`);
  return spec;
}
