/**
 * Calibrating a trained model on the validation split: each head's calibration (temperature or
 * vector scaling for classifiers, a spread correction for the return and volatility heads; see
 * @task-agnostic/heads calibration) is fitted on the validation rows only and set on the model,
 * which then applies it in predict() and in streaming alike. The report scores the test rows
 * before and after (ECE, Brier, NLL and a reliability diagram for classifiers; NLL and the mean
 * squared standardised error for the return head; MSE for volatility): test rows are scored, never fitted on.
 */
import {
  applyCalibration,
  calibrationFormOf,
  classProbabilities,
  eceInterval,
  fitCalibration,
  reliability,
  type BlendRule,
  type CalibrationForm,
  type CalibrationMethod,
  type CalibrationSelection,
  type FitCalibrationOptions,
  type Reliability,
} from '@task-agnostic/heads';
import type { TaskAgnosticModel } from '@task-agnostic/model';
import type { BootstrapInterval } from '@task-agnostic/core';
import type { MultiTaskDataset } from './dataset.js';
import type { MultiTaskSplit } from './split.js';
import { evaluateSplit } from './evaluate.js';
import { modelParts } from './model-evaluation.js';
import { fitBlends, type BlendReport } from './baseline-blend.js';
import { fitFusionOnSplit, FUSION_PLANS, type FusionReport } from './head-fusion.js';
import { CLASS_MIX_AUTO_TV, classMixChoices, classWeightsByTask, type ClassMixMode, type TaskClassMixChoice } from './class-mix.js';

export interface SplitScore {
  /** Named scalar figures (ece, brier, nll | nll, meanZ2 | mse). */
  readonly metrics: Record<string, number>;
  /** Classifiers: the reliability diagram (top-label confidence bins). */
  readonly reliability?: Reliability;
  /** Classifiers: ECE per symbol. */
  readonly eceBySymbol?: Record<string, number>;
  /** Classifiers: the ECE's 90% stationary block bootstrap interval over the windows. */
  readonly eceInterval?: Pick<BootstrapInterval, 'lo' | 'hi' | 'confidence' | 'resamples' | 'blockLength'>;
}

export interface HeadCalibrationReport {
  readonly task: string;
  readonly form: CalibrationForm | null;
  readonly method: string;
  readonly scale: readonly number[];
  readonly shift: readonly number[];
  /** Validation rows it was fitted on, and the fitting objective there before / after. */
  readonly fitRows: number;
  readonly validation: { readonly before: number; readonly after: number };
  readonly warning?: string;
  /** Softmax heads fitted with 'crossfit': the held-out validation NLL of every method it chose among. */
  readonly selection?: CalibrationSelection;
  /** The test split scored with the raw and with the calibrated outputs (null without test rows). */
  readonly test: { readonly n: number; readonly before: SplitScore; readonly after: SplitScore } | null;
}

export interface CalibrationReport {
  readonly split: 'validation';
  readonly heads: readonly HeadCalibrationReport[];
  readonly warnings: readonly string[];
  /** Each head's combination with its best naive baseline, fitted on the same validation rows (absent with `blend: false`). */
  readonly blends?: BlendReport;
  /** The risk answer fused from the risk and volatility heads: its out-of-fold score against the risk blend, and whether it was chosen. */
  /** The risk fusion's report (fusions.risk). */
  readonly riskFusion?: FusionReport;
  /** Each planned head fusion's report (FUSION_PLANS), by fused task id. */
  readonly fusions?: Readonly<Record<string, FusionReport>>;
  /** Per classification task: the class mix its layers were fitted for and the weights (class-mix.ts). */
  readonly classMix?: readonly TaskClassMixChoice[];
}

function score(form: CalibrationForm | null, out: Float32Array | Float64Array, y: Float32Array, n: number, dim: number, seriesIds: Int32Array | undefined, symbols: readonly string[]): SplitScore {
  if (form === 'softmax' || form === 'sigmoid') {
    const K = form === 'softmax' ? dim : 2;
    const p = classProbabilities(form, out, n, K);
    let nll = 0;
    for (let i = 0; i < n; i++) nll -= Math.log(Math.max(1e-12, p[i * K + y[i]!]!));
    const r = reliability(p, y, n, K);
    const eceBySymbol: Record<string, number> = {};
    if (seriesIds && symbols.length > 1) {
      symbols.forEach((s, k) => {
        const idx: number[] = [];
        for (let i = 0; i < n; i++) if (seriesIds[i] === k) idx.push(i);
        if (!idx.length) return;
        const ps = new Float64Array(idx.length * K);
        const ys = new Float64Array(idx.length);
        idx.forEach((i, j) => {
          for (let c = 0; c < K; c++) ps[j * K + c] = p[i * K + c]!;
          ys[j] = y[i]!;
        });
        eceBySymbol[s] = reliability(ps, ys, idx.length, K).ece;
      });
    }
    const ci = n >= MIN_ROWS_FOR_ECE_INTERVAL ? eceInterval(p, y, n, K) : null;
    return {
      metrics: { ece: r.ece, brier: r.brier, nll: nll / n },
      reliability: r,
      ...(Object.keys(eceBySymbol).length ? { eceBySymbol } : {}),
      ...(ci ? { eceInterval: { lo: ci.lo, hi: ci.hi, confidence: ci.confidence, resamples: ci.resamples, blockLength: ci.blockLength } } : {}),
    };
  }
  if (form === 'gaussian') {
    let nll = 0;
    let z2 = 0;
    let inside = 0;
    let mse = 0;
    for (let i = 0; i < n; i++) {
      const ls = Math.min(7, Math.max(-7, out[2 * i + 1]!));
      const z = (y[i]! - out[2 * i]!) / Math.exp(ls);
      nll += ls + 0.5 * z * z + 0.5 * Math.log(2 * Math.PI);
      z2 += z * z;
      mse += (y[i]! - out[2 * i]!) ** 2;
      if (Math.abs(z) <= 1) inside++;
    }
    // A calibrated Gaussian has mean z^2 = 1 and 68.3% of the errors within one std.
    return { metrics: { nll: nll / n, meanZ2: z2 / n, within1Std: inside / n, mse: mse / n } };
  }
  let mse = 0;
  let bias = 0;
  for (let i = 0; i < n; i++) {
    const e = y[i * dim]! - out[i * dim]!;
    mse += e * e;
    bias += e;
  }
  return { metrics: { mse: mse / n, bias: bias / n } };
}

/** Fewer test rows than this: no ECE interval. */
const MIN_ROWS_FOR_ECE_INTERVAL = 100;

/**
 * Fold ids for the cross-fitted choice: `folds` equal spans of calendar time over the split's windows
 * (every series' windows of one span in one fold), so a method is scored on a period it was not fitted on.
 * When a span holds no window (validation blocks far apart), equal shares of the windows in time order.
 * Null without the windows' end rows.
 */
export function timeFolds(split: MultiTaskSplit, series: MultiTaskDataset['series'], folds = 5): Int32Array | null {
  if (!split.endRows || split.n === 0) return null;
  const t = new Float64Array(split.n);
  for (let r = 0; r < split.n; r++) t[r] = series[split.seriesIds ? split.seriesIds[r]! : 0]!.candles.tsMs[split.endRows[r]!]!;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of t) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const out = new Int32Array(split.n);
  for (let r = 0; r < split.n; r++) out[r] = hi > lo ? Math.min(folds - 1, Math.floor(((t[r]! - lo) / (hi - lo)) * folds)) : 0;
  if (hi > lo && split.n >= folds) {
    // validation made of blocks (SplitBoundaries.valBlocks) can leave a span without windows: then
    // the folds are equal shares of the windows in time order instead (ties in time stay together)
    const counts = new Int32Array(folds);
    for (const f of out) counts[f]!++;
    if (counts.some((c) => c === 0)) {
      const order = Array.from(t.keys()).sort((a, b) => t[a]! - t[b]! || a - b);
      let f = 0;
      for (let k = 0; k < order.length; k++) {
        const want = Math.min(folds - 1, Math.floor((k * folds) / order.length));
        if (want > f && t[order[k]!]! > t[order[k - 1]!]!) f = want;
        out[order[k]!] = f;
      }
    }
  }
  return out;
}

export interface CalibrateModelOptions extends FitCalibrationOptions {
  readonly batchSize?: number;
  /**
   * The validation windows to fit on (default `ds.val`), e.g. the same validation range at a finer
   * stride: more rows for the fit. Its windows must come from `ds.series` (same order).
   */
  readonly fitOn?: MultiTaskSplit;
  /**
   * Also fit each head's combination with its task's best naive baseline on the same validation rows
   * (baseline-blend.ts; default true), on the heads' forecasts: regression heads after the calibration
   * fitted here, classifiers raw. false leaves the heads alone (no blends).
   */
  readonly blend?: boolean;
  /**
   * The class mix the classification layers are fitted for (class-mix.ts): 'validation' (default: the
   * validation rows as they are), 'training' (prior-shift weights p_train(k) / p_val(k) from the
   * pooled training and fitted validation rows) or 'auto' ('training' where the pooled TV distance
   * exceeds `classMixThreshold`, default CLASS_MIX_AUTO_TV).
   */
  readonly classMix?: ClassMixMode;
  readonly classMixThreshold?: number;
  /**
   * How each task's deployed layer is chosen among the head alone, the baseline alone, the blends
   * and the head fusions from their out-of-fold fold scores (heads' BlendRule): 'oneSe' (default: the
   * simplest blend within one standard error of the best; a fusion replaces it when its pooled score
   * beats the blends' best) or 'best' (the highest mean fold score over all of them).
   */
  readonly blendRule?: BlendRule;
}

/**
 * Fits every head's calibration on `ds.val` (or `options.fitOn`), sets it on the model and scores
 * `ds.test` before and after. A split without rows leaves the model uncalibrated with a warning.
 * With `softmax: 'crossfit'` and no folds given, the folds are five spans of calendar time.
 */
export function calibrateModel(model: TaskAgnosticModel, ds: MultiTaskDataset, options: CalibrateModelOptions = {}): CalibrationReport {
  const warnings: string[] = [];
  const fitSplit = options.fitOn ?? ds.val;
  if (fitSplit.n === 0) {
    warnings.push('the validation split has no rows: the model is left uncalibrated (identity)');
    model.setCalibration({});
    return { split: 'validation', heads: [], warnings };
  }
  const parts = modelParts(model);
  const batch = options.batchSize ?? 256;
  const val = evaluateSplit(parts, fitSplit, batch);
  const { classMix: _mode, classMixThreshold: _threshold, blendRule: _rule, ...calOptions } = options;
  const folds = options.softmax === 'crossfit' && !options.folds ? timeFolds(fitSplit, ds.series) : null;
  const fitOptions: FitCalibrationOptions = { ...calOptions, ...(folds ? { folds } : {}) };
  const test = ds.test.n > 0 ? evaluateSplit(parts, ds.test, batch) : null;
  // the class mix each classifier's layers are fitted for: training and validation labels only
  const classMix = classMixChoices(model.tasks, ds.train, fitSplit, options.classMix ?? 'validation', options.classMixThreshold ?? CLASS_MIX_AUTO_TV);
  const classWeights = classWeightsByTask(classMix);
  const symbols = ds.series.map((s) => s.symbol);
  const fits: Record<string, { method: CalibrationMethod; scale: number[]; shift: number[] }> = {};
  const heads: HeadCalibrationReport[] = model.tasks.map((t, i) => {
    const form = calibrationFormOf(t as Parameters<typeof calibrationFormOf>[0]);
    const dim = t.outputDim;
    if (!form) {
      const w = `'${t.id}': no calibration form for a ${t.kind} head of ${dim} outputs: left at identity`;
      warnings.push(w);
      return { task: t.id, form, method: 'identity', scale: Array(dim).fill(1), shift: Array(dim).fill(0), fitRows: 0, validation: { before: Number.NaN, after: Number.NaN }, warning: w, test: null };
    }
    const cw = classWeights[t.id];
    const fit = fitCalibration(form, val.outputs[i]!, fitSplit.targets[i]!, fitSplit.n, dim, cw ? { ...fitOptions, classWeights: cw } : fitOptions);
    if (fit.warning) warnings.push(`'${t.id}': ${fit.warning}`);
    fits[t.id] = { method: fit.method, scale: [...fit.scale], shift: [...fit.shift] };
    let testReport: HeadCalibrationReport['test'] = null;
    if (test) {
      const raw = test.outputs[i]!;
      const y = ds.test.targets[i]!;
      testReport = {
        n: ds.test.n,
        before: score(form, raw, y, ds.test.n, dim, ds.test.seriesIds, symbols),
        after: score(form, applyCalibration(raw, ds.test.n, fit), y, ds.test.n, dim, ds.test.seriesIds, symbols),
      };
    }
    return {
      task: t.id,
      form,
      method: fit.method,
      scale: [...fit.scale],
      shift: [...fit.shift],
      fitRows: fit.n,
      validation: { before: fit.before, after: fit.after },
      ...(fit.warning ? { warning: fit.warning } : {}),
      ...(fit.selection ? { selection: fit.selection } : {}),
      test: testReport,
    };
  });
  model.setCalibration(fits as Parameters<TaskAgnosticModel['setCalibration']>[0]);
  if (options.blend === false) {
    model.setBlends({});
    model.clearFusion();
    return { split: 'validation', heads, warnings, classMix };
  }
  // the forecasts the blends combine: regression heads calibrated (as evaluateTest scores them), classifiers raw
  const forecasts = model.tasks.map((t, i) => {
    const c = fits[t.id];
    return t.kind === 'regression' && c ? Float32Array.from(applyCalibration(val.outputs[i]!, fitSplit.n, c)) : val.outputs[i]!;
  });
  const blendFolds = timeFolds(fitSplit, ds.series) ?? undefined;
  const blends = fitBlends(model, ds, fitSplit, forecasts, blendFolds, classWeights, options.blendRule);
  // each task answer fused from the model's heads (risk, regime), where it beats the task's blend out of fold on the same folds
  model.clearFusion();
  const fusions: Record<string, FusionReport> = {};
  for (const plan of FUSION_PLANS) {
    const r = fitFusionOnSplit(model, ds, fitSplit, val.outputs, forecasts, blendFolds, blends, plan, classWeights, options.blendRule);
    if (r) fusions[r.task] = r;
  }
  const fusionWarnings = Object.values(fusions).flatMap((f) => (f.warning ? [`${f.task} fusion: ${f.warning}`] : []));
  const riskFusion = fusions.risk;
  return {
    split: 'validation',
    heads,
    warnings: [...warnings, ...blends.warnings.map((w) => `blend ${w}`), ...fusionWarnings],
    blends,
    ...(riskFusion ? { riskFusion } : {}),
    ...(Object.keys(fusions).length ? { fusions } : {}),
    classMix,
  };
}
