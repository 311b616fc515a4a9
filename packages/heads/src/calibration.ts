/**
 * Post-hoc calibration of a task head, fitted on the validation split: one per-column affine map
 * of the head's raw outputs, out'[j] = scale[j] x out[j] + shift[j], applied before decoding.
 * Every method is a special case of it, so a model stores and applies one shape:
 *
 * - temperature scaling (softmax and sigmoid classifiers; Guo et al. 2017): scale = 1/T, shift 0;
 * - vector scaling (softmax classifiers): scale = w (one per class), shift = b (one per class);
 * - bias-temperature (softmax classifiers): one shared scale 1/T and a bias per class (K free
 *   parameters: the class frequencies may shift between training and validation while the spread
 *   needs one temperature);
 * - gaussian spread (the return head, outputs mean and log-std): the std is multiplied by
 *   s = sqrt(mean(((y - mu) / sigma)^2)), the closed-form maximiser of the Gaussian likelihood in s,
 *   i.e. shift ln s on the log-std column;
 * - gaussian shrink (the default for the return head): first the mean is shrunk toward the zero
 *   forecast (the random walk, the return task's 'zero' baseline), mu' = k mu with
 *   k = clip(sum(y mu) / sum(mu^2), 0, 1), the least-squares slope through the origin: a forecast
 *   with no validation skill (k = 0) becomes the baseline, so the head cannot lose to it by more
 *   than the noise of k; then the spread as above on the shrunk mean (scale [k, 1], shift [0, ln s]);
 * - affine (a 1-output regression such as volatility's log-vol): y ~ a + b x by least squares,
 *   which corrects the spread (b) and the level (a) of the forecasts.
 *
 * A fit that cannot be trusted (too few rows, non-finite values, an optimiser that does not converge,
 * a non-positive slope) returns the identity with a warning: calibration never makes a NaN.
 */
import { sigmoid, softmaxRows } from './metrics.js';

/** How a head's raw outputs are read, which decides the calibration method. */
export type CalibrationForm = 'softmax' | 'sigmoid' | 'gaussian' | 'affine';

export type CalibrationMethod = 'identity' | 'temperature' | 'bias-temperature' | 'vector' | 'gaussian-spread' | 'gaussian-shrink' | 'affine';

/** The softmax calibrations a fit can choose among, simplest first. */
export const SOFTMAX_METHODS = ['temperature', 'bias-temperature', 'vector'] as const;
export type SoftmaxMethod = (typeof SOFTMAX_METHODS)[number];

/** How a softmax method was chosen by cross-fitting: the mean held-out NLL of each candidate. */
export interface CalibrationSelection {
  readonly folds: number;
  /** Mean NLL on the held-out fold, each fold's fit made on the other folds (NaN: a fold's fit failed). */
  readonly heldOutNll: Readonly<Record<SoftmaxMethod, number>>;
  /** Same for the raw outputs (no calibration). */
  readonly identityNll: number;
}

export interface OutputCalibration {
  readonly method: CalibrationMethod;
  /** Per output column; out' = scale x out + shift. */
  readonly scale: readonly number[];
  readonly shift: readonly number[];
}

export interface CalibrationFit extends OutputCalibration {
  /** Rows fitted on. */
  readonly n: number;
  /** The fitting objective (NLL, or MSE for affine) before and after, on the fitted rows. */
  readonly before: number;
  readonly after: number;
  /** Set when the fit fell back to the identity. */
  readonly warning?: string;
  /** Softmax 'crossfit': the held-out NLL of every candidate method the choice was made on. */
  readonly selection?: CalibrationSelection;
}

/** Identity calibration for a head of `dim` outputs. */
export function identityCalibration(dim: number): OutputCalibration {
  return { method: 'identity', scale: Array.from({ length: dim }, () => 1), shift: Array.from({ length: dim }, () => 0) };
}

/** Applies a calibration to raw outputs [n, dim] row-major, into `out` (may be `raw` itself). */
export function applyCalibration(raw: ArrayLike<number>, n: number, cal: OutputCalibration, out: Float32Array | Float64Array = new Float32Array(raw.length)): Float32Array | Float64Array {
  const dim = cal.scale.length;
  if (raw.length !== n * dim) throw new RangeError(`calibration of ${dim} columns applied to ${raw.length} values for ${n} rows`);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) out[i * dim + j] = cal.scale[j]! * raw[i * dim + j]! + cal.shift[j]!;
  return out;
}

/** Minimum rows a calibration is fitted on; below it the identity is kept (with a warning). */
export const MIN_CALIBRATION_ROWS = 30;

export interface FitCalibrationOptions {
  /**
   * Softmax heads: 'temperature' (1 parameter), 'bias-temperature' (K), 'vector' (2K), 'auto' (default:
   * vector only when it also wins on the last third of the rows), or 'crossfit': every method fitted on
   * all folds but one and scored on that one, the lowest mean held-out NLL wins (ties: the simpler).
   */
  readonly softmax?: SoftmaxMethod | 'auto' | 'crossfit';
  /** 'crossfit': fold index (0..folds-1) of every row, e.g. blocks of time; default 5 contiguous blocks of rows. */
  readonly folds?: ArrayLike<number>;
  /** Gaussian heads: 'shrink' (default: mean shrunk toward 0, then the spread) or 'spread' (the spread only). */
  readonly gaussian?: 'shrink' | 'spread';
  readonly maxIterations?: number;
  /**
   * Classifiers: the weight of a validation row of class k (prior-shift correction, prior-shift.ts:
   * p_train(k) / p_val(k)), in the NLL fitted and in every NLL that chooses the method (the 'auto'
   * hold-out, the 'crossfit' folds). Default: every row weighs 1.
   */
  readonly classWeights?: readonly number[];
}

function allFinite(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return false;
  return true;
}

function identityFit(dim: number, n: number, before: number, warning: string): CalibrationFit {
  return { ...identityCalibration(dim), n, before, after: before, warning };
}

/**
 * Mean softmax cross-entropy of logits scaled by w and shifted by b (per class), with gradients; with
 * class weights `cw`, the weighted mean (a row of class c weighs cw[c]).
 */
function softmaxNll(z: ArrayLike<number>, y: ArrayLike<number>, n: number, K: number, w: ArrayLike<number>, b: ArrayLike<number>, grad?: { w: Float64Array; b: Float64Array }, cw?: readonly number[]): number {
  let loss = 0;
  let wsum = 0;
  const zz = new Float64Array(K);
  if (grad) {
    grad.w.fill(0);
    grad.b.fill(0);
  }
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (let k = 0; k < K; k++) {
      zz[k] = w[k]! * z[i * K + k]! + b[k]!;
      if (zz[k]! > m) m = zz[k]!;
    }
    let s = 0;
    for (let k = 0; k < K; k++) s += Math.exp(zz[k]! - m);
    const lse = m + Math.log(s);
    const c = y[i]!;
    const ri = cw ? cw[c]! : 1;
    wsum += ri;
    loss += ri * (lse - zz[c]!);
    if (grad) {
      for (let k = 0; k < K; k++) {
        const g = ri * (Math.exp(zz[k]! - lse) - (k === c ? 1 : 0));
        grad.w[k]! += g * z[i * K + k]!;
        grad.b[k]! += g;
      }
    }
  }
  if (grad) {
    for (let k = 0; k < K; k++) {
      grad.w[k]! /= wsum;
      grad.b[k]! /= wsum;
    }
  }
  return loss / wsum;
}

/**
 * Temperature scaling: the a = 1/T minimising the mean NLL (convex in a, so unimodal in ln a),
 * by golden-section search on ln a in [ln 1e-3, ln 1e3]. Returns NaN when it does not converge.
 */
function fitInverseTemperature(nll: (a: number) => number, maxIterations: number): number {
  // Golden-section search on log a: the NLL is convex in a, so unimodal in log a.
  let lo = Math.log(1e-3);
  let hi = Math.log(1e3);
  const g = (Math.sqrt(5) - 1) / 2;
  let x1 = hi - g * (hi - lo);
  let x2 = lo + g * (hi - lo);
  let f1 = nll(Math.exp(x1));
  let f2 = nll(Math.exp(x2));
  for (let it = 0; it < maxIterations; it++) {
    if (hi - lo < 1e-7) return Math.exp((lo + hi) / 2);
    if (!Number.isFinite(f1) || !Number.isFinite(f2)) return Number.NaN;
    if (f1 <= f2) {
      hi = x2;
      x2 = x1;
      f2 = f1;
      x1 = hi - g * (hi - lo);
      f1 = nll(Math.exp(x1));
    } else {
      lo = x1;
      x1 = x2;
      f1 = f2;
      x2 = lo + g * (hi - lo);
      f2 = nll(Math.exp(x2));
    }
  }
  return Number.NaN;
}

/**
 * Vector scaling (or, `tied`, one shared scale with a bias per class) by gradient descent with
 * backtracking (Armijo) from a start; null when it does not converge. The first bias is pinned at 0
 * (softmax is unchanged by a common shift), so vector has 2K - 1 free parameters and tied K.
 */
function fitVector(z: ArrayLike<number>, y: ArrayLike<number>, n: number, K: number, a0: number, maxIterations: number, tied = false, cw?: readonly number[]): { w: number[]; b: number[]; loss: number } | null {
  const w = new Float64Array(K).fill(a0);
  const b = new Float64Array(K);
  const rawGrad = { w: new Float64Array(K), b: new Float64Array(K) };
  const grad = { w: new Float64Array(K), b: new Float64Array(K) };
  const project = (): void => {
    let sw = 0;
    for (let k = 0; k < K; k++) sw += rawGrad.w[k]!;
    for (let k = 0; k < K; k++) {
      grad.w[k] = tied ? sw : rawGrad.w[k]!;
      grad.b[k] = k === 0 ? 0 : rawGrad.b[k]!;
    }
  };
  let loss = softmaxNll(z, y, n, K, w, b, rawGrad, cw);
  project();
  let step = 1;
  const tw = new Float64Array(K);
  const tb = new Float64Array(K);
  for (let it = 0; it < maxIterations; it++) {
    let g2 = 0;
    for (let k = 0; k < K; k++) g2 += grad.w[k]! ** 2 + grad.b[k]! ** 2;
    if (g2 < 1e-14) return { w: Array.from(w), b: Array.from(b), loss };
    let accepted = false;
    for (let bt = 0; bt < 40; bt++) {
      for (let k = 0; k < K; k++) {
        tw[k] = w[k]! - step * grad.w[k]!;
        tb[k] = b[k]! - step * grad.b[k]!;
      }
      const l = softmaxNll(z, y, n, K, tw, tb, undefined, cw);
      if (Number.isFinite(l) && l <= loss - 1e-4 * step * g2) {
        w.set(tw);
        b.set(tb);
        const prev = loss;
        loss = softmaxNll(z, y, n, K, w, b, rawGrad, cw);
        project();
        step *= 2;
        accepted = true;
        if (prev - loss < 1e-10) return { w: Array.from(w), b: Array.from(b), loss };
        break;
      }
      step /= 2;
    }
    if (!accepted) return g2 < 1e-8 ? { w: Array.from(w), b: Array.from(b), loss } : null;
  }
  return null;
}

/**
 * Fits a softmax classifier's calibration: logits [n, K], labels = class indices.
 * 'auto' fits temperature and vector scaling on the first two thirds of the rows (in time order),
 * keeps vector scaling only if its NLL on the last third is lower by more than its extra parameters'
 * AIC cost ((2K - 2) / rows), then refits the winner on all rows. 'crossfit' scores every method of
 * SOFTMAX_METHODS on each fold fitted on the others and refits the lowest mean held-out NLL on all rows.
 */
export function fitSoftmaxCalibration(logits: ArrayLike<number>, labels: ArrayLike<number>, n: number, K: number, options: FitCalibrationOptions = {}): CalibrationFit {
  const maxIt = options.maxIterations ?? 500;
  const ones = new Float64Array(K).fill(1);
  const zeros = new Float64Array(K);
  const cw = options.classWeights;
  if (cw && (cw.length !== K || !cw.every((v) => Number.isFinite(v) && v >= 0))) throw new RangeError(`fitSoftmaxCalibration: class weights ${cw.join(', ')} must be ${K} finite non-negative numbers`);
  if (n < MIN_CALIBRATION_ROWS) return identityFit(K, n, Number.NaN, `${n} validation rows, fewer than ${MIN_CALIBRATION_ROWS}: calibration left at identity`);
  if (!allFinite(logits)) return identityFit(K, n, Number.NaN, 'non-finite head outputs on the validation rows: calibration left at identity');
  for (let i = 0; i < n; i++) {
    const c = labels[i]!;
    if (!Number.isInteger(c) || c < 0 || c >= K) return identityFit(K, n, Number.NaN, `label ${c} at row ${i} is not a class index 0..${K - 1}: calibration left at identity`);
  }
  const before = softmaxNll(logits, labels, n, K, ones, zeros, undefined, cw);
  const fitRows = (z: Float64Array, y: Float64Array, nn: number, kind: SoftmaxMethod): { w: number[]; b: number[]; loss: number } | null => {
    const a = fitInverseTemperature((x) => softmaxNll(z, y, nn, K, new Float64Array(K).fill(x), zeros, undefined, cw), maxIt);
    if (!Number.isFinite(a)) return null;
    if (kind === 'temperature') return { w: Array.from({ length: K }, () => a), b: Array.from({ length: K }, () => 0), loss: softmaxNll(z, y, nn, K, new Float64Array(K).fill(a), zeros, undefined, cw) };
    return fitVector(z, y, nn, K, a, maxIt, kind === 'bias-temperature', cw);
  };
  const fitOn = (nn: number, off: number, kind: SoftmaxMethod) => fitRows(subRows(logits, off, nn, K), subRows(labels, off, nn, 1), nn, kind);
  const mode = options.softmax ?? 'auto';
  let kind: SoftmaxMethod = mode === 'auto' || mode === 'crossfit' ? 'temperature' : mode;
  let selection: CalibrationSelection | undefined;
  if (mode === 'auto') {
    const cut = Math.floor((2 * n) / 3);
    const t = fitOn(cut, 0, 'temperature');
    const v = fitOn(cut, 0, 'vector');
    if (t && v) {
      const zh = subRows(logits, cut, n - cut, K);
      const yh = subRows(labels, cut, n - cut, 1);
      const lt = softmaxNll(zh, yh, n - cut, K, t.w, t.b, undefined, cw);
      const lv = softmaxNll(zh, yh, n - cut, K, v.w, v.b, undefined, cw);
      // Vector scaling has 2K - 2 more free parameters: ask it to win by more than their AIC cost per row.
      kind = lv < lt - (2 * K - 2) / (n - cut) ? 'vector' : 'temperature';
    }
  } else if (mode === 'crossfit') {
    selection = crossFitSelection(logits, labels, n, K, options.folds, fitRows, cw);
    let best = Infinity;
    // simplest first, so a tie keeps the simpler method
    for (const m of SOFTMAX_METHODS) {
      const l = selection.heldOutNll[m];
      if (Number.isFinite(l) && l < best) {
        best = l;
        kind = m;
      }
    }
  }
  const r = fitOn(n, 0, kind);
  const sel = selection ? { selection } : {};
  if (!r || !Number.isFinite(r.loss) || !r.w.every(Number.isFinite) || !r.b.every(Number.isFinite)) {
    return { ...identityFit(K, n, before, `${kind} scaling did not converge: calibration left at identity`), ...sel };
  }
  if (r.loss > before) return { ...identityFit(K, n, before, `${kind} scaling did not improve the validation NLL: calibration left at identity`), ...sel };
  return { method: kind, scale: r.w, shift: r.b, n, before, after: r.loss, ...sel };
}

/** Default folds of the cross-fitted choice when none are given: this many contiguous blocks of rows. */
export const CROSSFIT_FOLDS = 5;

function crossFitSelection(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  n: number,
  K: number,
  folds: ArrayLike<number> | undefined,
  fitRows: (z: Float64Array, y: Float64Array, nn: number, kind: SoftmaxMethod) => { w: number[]; b: number[]; loss: number } | null,
  cw?: readonly number[],
): CalibrationSelection {
  if (folds && folds.length !== n) throw new RangeError(`crossfit: ${folds.length} fold ids for ${n} rows`);
  const foldOf = (i: number): number => (folds ? folds[i]! : Math.min(CROSSFIT_FOLDS - 1, Math.floor((i * CROSSFIT_FOLDS) / n)));
  const ids = [...new Set(Array.from({ length: n }, (_, i) => foldOf(i)))].sort((a, b) => a - b);
  const sums = Object.fromEntries(SOFTMAX_METHODS.map((m) => [m, 0])) as Record<SoftmaxMethod, number>;
  let identity = 0;
  let scored = 0;
  const ones = new Float64Array(K).fill(1);
  const zeros = new Float64Array(K);
  for (const f of ids) {
    const inIdx: number[] = [];
    const outIdx: number[] = [];
    for (let i = 0; i < n; i++) (foldOf(i) === f ? outIdx : inIdx).push(i);
    if (inIdx.length < MIN_CALIBRATION_ROWS || outIdx.length === 0) continue;
    const zi = pickRows(logits, inIdx, K);
    const yi = pickRows(labels, inIdx, 1);
    const zo = pickRows(logits, outIdx, K);
    const yo = pickRows(labels, outIdx, 1);
    // the fold's weight in the mean: its rows (weighted rows with class weights), so the mean is over all held-out rows
    let foldWeight = outIdx.length;
    if (cw) {
      foldWeight = 0;
      for (const i of outIdx) foldWeight += cw[labels[i]!]!;
    }
    for (const m of SOFTMAX_METHODS) {
      const r = fitRows(zi, yi, inIdx.length, m);
      // a fold whose fit fails makes the method unusable (NaN), never silently better
      sums[m] += r ? softmaxNll(zo, yo, outIdx.length, K, r.w, r.b, undefined, cw) * foldWeight : Number.NaN;
    }
    identity += softmaxNll(zo, yo, outIdx.length, K, ones, zeros, undefined, cw) * foldWeight;
    scored += foldWeight;
  }
  const mean = (x: number) => (scored > 0 ? x / scored : Number.NaN);
  return {
    folds: ids.length,
    heldOutNll: Object.fromEntries(SOFTMAX_METHODS.map((m) => [m, mean(sums[m])])) as Record<SoftmaxMethod, number>,
    identityNll: mean(identity),
  };
}

function pickRows(a: ArrayLike<number>, idx: readonly number[], dim: number): Float64Array {
  const out = new Float64Array(idx.length * dim);
  idx.forEach((r, k) => {
    for (let j = 0; j < dim; j++) out[k * dim + j] = a[r * dim + j]!;
  });
  return out;
}

function subRows(a: ArrayLike<number>, start: number, n: number, dim: number): Float64Array {
  const out = new Float64Array(n * dim);
  for (let i = 0; i < n * dim; i++) out[i] = a[start * dim + i]!;
  return out;
}

function binaryNll(z: ArrayLike<number>, y: ArrayLike<number>, n: number, a: number, cw?: readonly number[]): number {
  let s = 0;
  let wsum = 0;
  for (let i = 0; i < n; i++) {
    const x = a * z[i]!;
    const ri = cw ? cw[y[i]!]! : 1;
    wsum += ri;
    // -[y ln sig(x) + (1-y) ln(1 - sig(x))] = softplus(x) - y x, computed stably.
    s += ri * (Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))) - y[i]! * x);
  }
  return s / wsum;
}

/** Temperature scaling of a sigmoid (one-logit) classifier; labels 0/1. */
export function fitSigmoidCalibration(logits: ArrayLike<number>, labels: ArrayLike<number>, n: number, options: FitCalibrationOptions = {}): CalibrationFit {
  if (n < MIN_CALIBRATION_ROWS) return identityFit(1, n, Number.NaN, `${n} validation rows, fewer than ${MIN_CALIBRATION_ROWS}: calibration left at identity`);
  if (!allFinite(logits) || !allFinite(labels)) return identityFit(1, n, Number.NaN, 'non-finite head outputs or labels on the validation rows: calibration left at identity');
  const cw = options.classWeights;
  if (cw && (cw.length !== 2 || !cw.every((v) => Number.isFinite(v) && v >= 0))) throw new RangeError(`fitSigmoidCalibration: class weights ${cw.join(', ')} must be 2 finite non-negative numbers`);
  if (cw) {
    for (let i = 0; i < n; i++) if (labels[i] !== 0 && labels[i] !== 1) throw new RangeError(`fitSigmoidCalibration: label ${labels[i]} at row ${i} is not 0 or 1 (class weights given)`);
  }
  const before = binaryNll(logits, labels, n, 1, cw);
  const a = fitInverseTemperature((x) => binaryNll(logits, labels, n, x, cw), options.maxIterations ?? 500);
  const after = Number.isFinite(a) ? binaryNll(logits, labels, n, a, cw) : Number.NaN;
  if (!Number.isFinite(after)) return identityFit(1, n, before, 'temperature scaling did not converge: calibration left at identity');
  if (after > before) return identityFit(1, n, before, 'temperature scaling did not improve the validation NLL: calibration left at identity');
  return { method: 'temperature', scale: [a], shift: [0], n, before, after };
}

const LOG_STD_CLAMP = 7;

/** Gaussian NLL (constant dropped) of outputs [mu, logStd] against y with the std multiplied by s. */
function gaussianNll(out: ArrayLike<number>, y: ArrayLike<number>, n: number, s: number): number {
  let l = 0;
  for (let i = 0; i < n; i++) {
    const ls = Math.min(LOG_STD_CLAMP, Math.max(-LOG_STD_CLAMP, out[2 * i + 1]!)) + Math.log(s);
    const z = (y[i]! - out[2 * i]!) / Math.exp(ls);
    l += ls + 0.5 * z * z;
  }
  return l / n;
}

/**
 * The spread of a Gaussian head (outputs mean and log-std): s = sqrt(mean(z^2)), z the standardised
 * errors, maximises the likelihood of y over std x s (d/ds of sum(ln s + z^2 / 2s^2) = 0).
 */
export function fitGaussianSpread(outputs: ArrayLike<number>, targets: ArrayLike<number>, n: number): CalibrationFit {
  if (n < MIN_CALIBRATION_ROWS) return identityFit(2, n, Number.NaN, `${n} validation rows, fewer than ${MIN_CALIBRATION_ROWS}: calibration left at identity`);
  if (!allFinite(outputs) || !allFinite(targets)) return identityFit(2, n, Number.NaN, 'non-finite head outputs or targets on the validation rows: calibration left at identity');
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const ls = Math.min(LOG_STD_CLAMP, Math.max(-LOG_STD_CLAMP, outputs[2 * i + 1]!));
    const z = (targets[i]! - outputs[2 * i]!) / Math.exp(ls);
    s2 += z * z;
  }
  const s = Math.sqrt(s2 / n);
  const before = gaussianNll(outputs, targets, n, 1);
  if (!(s > 0) || !Number.isFinite(s)) return identityFit(2, n, before, `the spread scale is ${s}: calibration left at identity`);
  return { method: 'gaussian-spread', scale: [1, 1], shift: [0, Math.log(s)], n, before, after: gaussianNll(outputs, targets, n, s) };
}

/**
 * The mean of a Gaussian head shrunk toward the zero forecast, then its spread: mu' = k mu with
 * k = clip(sum(y mu) / sum(mu^2), 0, 1) (least squares through the origin, so never an
 * extrapolation beyond the head nor a sign flip), then s = sqrt(mean(((y - mu') / sigma)^2)).
 * `before` / `after` are the mean Gaussian NLL on the fitted rows, and the mean squared
 * error of the mean before and after (`meanMse`).
 */
export function fitGaussianShrink(outputs: ArrayLike<number>, targets: ArrayLike<number>, n: number): CalibrationFit & { readonly meanMse?: { readonly before: number; readonly after: number } } {
  if (n < MIN_CALIBRATION_ROWS) return identityFit(2, n, Number.NaN, `${n} validation rows, fewer than ${MIN_CALIBRATION_ROWS}: calibration left at identity`);
  if (!allFinite(outputs) || !allFinite(targets)) return identityFit(2, n, Number.NaN, 'non-finite head outputs or targets on the validation rows: calibration left at identity');
  let sxy = 0;
  let sxx = 0;
  let mseBefore = 0;
  for (let i = 0; i < n; i++) {
    const mu = outputs[2 * i]!;
    sxy += mu * targets[i]!;
    sxx += mu * mu;
    mseBefore += (targets[i]! - mu) ** 2;
  }
  // a head that forecasts 0 everywhere is the baseline already: nothing to shrink
  const k = sxx > 1e-12 * n ? Math.min(1, Math.max(0, sxy / sxx)) : 1;
  const shrunk = new Float64Array(2 * n);
  let mseAfter = 0;
  for (let i = 0; i < n; i++) {
    shrunk[2 * i] = k * outputs[2 * i]!;
    shrunk[2 * i + 1] = outputs[2 * i + 1]!;
    mseAfter += (targets[i]! - shrunk[2 * i]!) ** 2;
  }
  const spread = fitGaussianSpread(shrunk, targets, n);
  const before = gaussianNll(outputs, targets, n, 1);
  if (spread.warning) return identityFit(2, n, before, spread.warning);
  const s = Math.exp(spread.shift[1]!);
  return {
    method: 'gaussian-shrink',
    scale: [k, 1],
    shift: [0, spread.shift[1]!],
    n,
    before,
    after: gaussianNll(shrunk, targets, n, s),
    meanMse: { before: mseBefore / n, after: mseAfter / n },
  };
}

/** y ~ a + b x by least squares on a one-output regression head; the identity when b <= 0 or x has no spread. */
export function fitAffine(outputs: ArrayLike<number>, targets: ArrayLike<number>, n: number): CalibrationFit {
  if (n < MIN_CALIBRATION_ROWS) return identityFit(1, n, Number.NaN, `${n} validation rows, fewer than ${MIN_CALIBRATION_ROWS}: calibration left at identity`);
  if (!allFinite(outputs) || !allFinite(targets)) return identityFit(1, n, Number.NaN, 'non-finite head outputs or targets on the validation rows: calibration left at identity');
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += outputs[i]!;
    my += targets[i]!;
  }
  mx /= n;
  my /= n;
  let sxx = 0;
  let sxy = 0;
  let before = 0;
  for (let i = 0; i < n; i++) {
    const dx = outputs[i]! - mx;
    sxx += dx * dx;
    sxy += dx * (targets[i]! - my);
    before += (targets[i]! - outputs[i]!) ** 2;
  }
  before /= n;
  if (!(sxx > 1e-12 * n)) return identityFit(1, n, before, 'the forecasts have no spread on the validation rows: calibration left at identity');
  const b = sxy / sxx;
  if (!(b > 0)) return identityFit(1, n, before, `the validation slope of targets on forecasts is ${b.toFixed(3)} (<= 0): calibration left at identity`);
  const a = my - b * mx;
  let after = 0;
  for (let i = 0; i < n; i++) after += (targets[i]! - (a + b * outputs[i]!)) ** 2;
  return { method: 'affine', scale: [b], shift: [a], n, before, after: after / n };
}

/** Fits the calibration a head's output form calls for. */
export function fitCalibration(form: CalibrationForm, outputs: ArrayLike<number>, targets: ArrayLike<number>, n: number, dim: number, options: FitCalibrationOptions = {}): CalibrationFit {
  switch (form) {
    case 'softmax':
      return fitSoftmaxCalibration(outputs, targets, n, dim, options);
    case 'sigmoid':
      return fitSigmoidCalibration(outputs, targets, n, options);
    case 'gaussian':
      return options.gaussian === 'spread' ? fitGaussianSpread(outputs, targets, n) : fitGaussianShrink(outputs, targets, n);
    case 'affine':
      return fitAffine(outputs, targets, n);
  }
}

/** The output form of a task: declared (`calibrationForm`) or inferred from its kind and width. */
export function calibrationFormOf(task: { kind: 'classification' | 'regression'; outputDim: number; classes?: readonly string[]; calibrationForm?: CalibrationForm }): CalibrationForm | null {
  if (task.calibrationForm) return task.calibrationForm;
  if (task.kind === 'classification') return task.outputDim === 1 ? 'sigmoid' : 'softmax';
  if (task.outputDim === 1) return 'affine';
  return null;
}

export interface ReliabilityBin {
  readonly lo: number;
  readonly hi: number;
  readonly count: number;
  /** Mean top-label confidence of the rows in the bin (NaN when empty). */
  readonly confidence: number;
  /** Share of those rows whose top label was right. */
  readonly accuracy: number;
}

export interface Reliability {
  /** Expected calibration error of the top label: sum over bins of (count / n) |accuracy - confidence|. */
  readonly ece: number;
  /** Multi-class Brier score: mean over rows of sum_k (p_k - 1[y = k])^2. */
  readonly brier: number;
  readonly n: number;
  readonly bins: readonly ReliabilityBin[];
}

/** ECE (equal-width bins of the top-label confidence, 15 by default), Brier and the reliability diagram of probabilities [n, K]. */
export function reliability(probs: ArrayLike<number>, labels: ArrayLike<number>, n: number, K: number, nBins = 15): Reliability {
  const cnt = new Float64Array(nBins);
  const conf = new Float64Array(nBins);
  const acc = new Float64Array(nBins);
  let brier = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (probs[i * K + k]! > probs[i * K + best]!) best = k;
    const p = probs[i * K + best]!;
    const b = Math.min(nBins - 1, Math.floor(p * nBins));
    cnt[b]!++;
    conf[b]! += p;
    if (best === labels[i]) acc[b]!++;
    for (let k = 0; k < K; k++) brier += (probs[i * K + k]! - (k === labels[i] ? 1 : 0)) ** 2;
  }
  let ece = 0;
  const bins: ReliabilityBin[] = [];
  for (let b = 0; b < nBins; b++) {
    const c = cnt[b]!;
    if (c > 0) ece += (c / n) * Math.abs(acc[b]! / c - conf[b]! / c);
    bins.push({ lo: b / nBins, hi: (b + 1) / nBins, count: c, confidence: c ? conf[b]! / c : Number.NaN, accuracy: c ? acc[b]! / c : Number.NaN });
  }
  return { ece: n ? ece : Number.NaN, brier: n ? brier / n : Number.NaN, n, bins };
}

/** Class probabilities [n, K] of a classifier's raw outputs (softmax logits, or one sigmoid logit -> [1 - p, p]). */
export function classProbabilities(form: 'softmax' | 'sigmoid', outputs: ArrayLike<number>, n: number, K: number): Float64Array {
  if (form === 'softmax') return softmaxRows(outputs, n, K);
  const out = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const p = sigmoid(outputs[i]!);
    out[2 * i] = 1 - p;
    out[2 * i + 1] = p;
  }
  return out;
}
