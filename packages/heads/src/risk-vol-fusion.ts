/**
 * The risk answer fused from the model's own heads (a cross-head stack, fitted on the validation
 * split). The risk label is the worse of the forward drawdown grade and the forward realised-vol
 * grade, each against the symbol's training cuts; the volatility head forecasts that same forward
 * realised vol (log rv - centre). So the risk probabilities are a multinomial logistic regression
 * (multinomial-logistic.ts, plain cross-entropy: calibrated probabilities) on
 *
 * - the risk head's logits (medium - low, high - low),
 * - the volatility head's forecast of log rv minus the log of each of the symbol's two vol cuts,
 * - the trailing realised vol (the volatility task's persistence baseline) minus the same two cuts,
 * - the persistence baseline's risk class (medium, high as indicators),
 *
 * then per-class offsets tuned for macro-F1 on the fitted rows (class-offsets.ts). The vol features
 * are measured against the symbol's own cuts, so when a period is more volatile than the fitted one
 * the inputs move with it and the class mix follows; offsets on the risk head's log-probabilities
 * alone (the baseline blend) carry the fitted period's class mix into every other period.
 * Whether it is used is decided by cross-fitting over folds of the validation rows, as the blends are.
 */
import { fitMultinomialLogistic, multinomialLogits } from './multinomial-logistic.js';
import { tuneClassOffsets } from './class-offsets.js';
import { crossFitFolds } from './baseline-blend.js';

/** The fused features, in the order of the weight rows 1..F. */
export const RISK_FUSION_FEATURES = [
  'riskHead:medium-low',
  'riskHead:high-low',
  'volHead-ln(volCut0)',
  'volHead-ln(volCut1)',
  'trailingVol-ln(volCut0)',
  'trailingVol-ln(volCut1)',
  'persistence=medium',
  'persistence=high',
] as const;

const F = RISK_FUSION_FEATURES.length;
const K = 3;

/** The fusion as it travels in the model artifact (plain JSON). */
export interface RiskVolFusion {
  /** The task whose head the fusion replaces ('risk') and the volatility task it reads. */
  readonly task: string;
  readonly volatilityTask: string;
  /** Feature names (RISK_FUSION_FEATURES), so an artifact says what its weights multiply. */
  readonly features: readonly string[];
  /** Row-major [(features + 1) x 3]: intercepts, then one row per feature; column 0 (low) is 0. */
  readonly weights: readonly number[];
  /** Per-class offsets added after (tuned for macro-F1; offsets[0] = 0). */
  readonly offsets: readonly number[];
}

/** What the features are computed from, for n rows of one symbol. */
export interface RiskFusionInputs {
  /** The risk head's raw logits [n x 3]. */
  readonly riskLogits: ArrayLike<number>;
  /** The risk task's persistence baseline outputs [n x 3] (the trailing window's class as logits). */
  readonly persistence: ArrayLike<number>;
  /** The volatility head's forecast [n]: ln rv - centre (after its calibration, before any blend). */
  readonly volForecast: ArrayLike<number>;
  /** The volatility task's persistence baseline [n]: ln(trailing rv) - centre. */
  readonly trailingVol: ArrayLike<number>;
  /** The volatility task state's centre (mean training ln rv) of this symbol. */
  readonly volCentre: number;
  /** The risk task state's vol cuts of this symbol (rv, not logs). */
  readonly volCuts: readonly [number, number];
}

function argmax3(a: ArrayLike<number>, i: number): number {
  const x = a[i * K]!;
  const y = a[i * K + 1]!;
  const z = a[i * K + 2]!;
  return z > x && z > y ? 2 : y > x ? 1 : 0;
}

/** The features [n x F] of the fusion (RISK_FUSION_FEATURES order). Throws on bad shapes or cuts. */
export function riskFusionFeatures(inp: RiskFusionInputs, n: number): Float64Array {
  if (inp.riskLogits.length !== n * K || inp.persistence.length !== n * K || inp.volForecast.length !== n || inp.trailingVol.length !== n) {
    throw new RangeError(
      `risk fusion: ${inp.riskLogits.length} risk logits, ${inp.persistence.length} persistence values, ${inp.volForecast.length} vol forecasts and ${inp.trailingVol.length} trailing vols for ${n} rows`,
    );
  }
  const [c0, c1] = inp.volCuts;
  if (!(c0 > 0 && c1 > 0) || !Number.isFinite(inp.volCentre)) throw new RangeError(`risk fusion: vol cuts ${c0}, ${c1} must be positive and the centre finite (got ${inp.volCentre})`);
  const l0 = Math.log(c0) - inp.volCentre;
  const l1 = Math.log(c1) - inp.volCentre;
  const X = new Float64Array(n * F);
  for (let i = 0; i < n; i++) {
    const r = inp.riskLogits;
    const v = inp.volForecast[i]!;
    const tv = inp.trailingVol[i]!;
    const p = argmax3(inp.persistence, i);
    const row = [r[i * K + 1]! - r[i * K]!, r[i * K + 2]! - r[i * K]!, v - l0, v - l1, tv - l0, tv - l1, p === 1 ? 1 : 0, p === 2 ? 1 : 0];
    for (let j = 0; j < F; j++) X[i * F + j] = row[j]!;
  }
  return X;
}

/** The fused risk logits [n x 3] (weights, then offsets) from the features [n x F]. */
export function applyRiskFusion(fusion: Pick<RiskVolFusion, 'weights' | 'offsets'>, features: ArrayLike<number>, n: number): Float32Array {
  if (fusion.offsets.length !== K) throw new RangeError(`risk fusion: ${fusion.offsets.length} offsets for ${K} classes`);
  const z = multinomialLogits(fusion.weights, features, n, F, K);
  const out = new Float32Array(n * K);
  for (let i = 0; i < n; i++) for (let k = 0; k < K; k++) out[i * K + k] = z[i * K + k]! + fusion.offsets[k]!;
  return out;
}

/** The fusion fitted on rows `idx` of the features: the regression, then its offsets tuned for `score`. */
function fitOn(X: Float64Array, y: Float32Array, idx: readonly number[], score: (o: Float32Array, y: Float32Array, n: number) => number): { weights: number[]; offsets: number[] } {
  const m = idx.length;
  const Xs = new Float64Array(m * F);
  const ys = new Float32Array(m);
  idx.forEach((r, k) => {
    Xs.set(X.subarray(r * F, (r + 1) * F), k * F);
    ys[k] = y[r]!;
  });
  const fit = fitMultinomialLogistic(Xs, ys, m, F, K);
  const z = multinomialLogits(fit.weights, Xs, m, F, K);
  const offsets = tuneClassOffsets(z, ys, m, K, score);
  return { weights: Array.from(fit.weights), offsets };
}

export interface RiskFusionFit {
  /** The fusion fitted on all the rows (null when there were too few rows or a class is missing). */
  readonly fusion: Omit<RiskVolFusion, 'task' | 'volatilityTask'> | null;
  readonly n: number;
  readonly folds: number;
  /** The metric over all rows of the head alone and of the fusion's out-of-fold forecasts (NaN when not cross-fitted). */
  readonly heldOut: { readonly model: number; readonly fusion: number };
  readonly warning?: string;
}

/** Minimum rows (and rows per fitting fold) of a fusion fit. */
export const MIN_FUSION_ROWS = 100;

/**
 * Fits the fusion on validation rows (features from riskFusionFeatures, risk labels y) and scores it
 * out of fold: each fold's rows are predicted by the fusion fitted on the others (`folds`: a fold id
 * per row, e.g. spans of calendar time; default BLEND_FOLDS contiguous blocks: crossFitFolds). The caller compares
 * heldOut.fusion with the alternatives' out-of-fold scores on the same rows.
 */
export function fitRiskFusion(
  features: Float64Array,
  y: Float32Array,
  riskLogits: ArrayLike<number>,
  n: number,
  score: (outputs: Float32Array, targets: Float32Array, n: number) => number,
  folds?: ArrayLike<number>,
): RiskFusionFit {
  if (features.length !== n * F || y.length !== n || riskLogits.length !== n * K) throw new RangeError(`fitRiskFusion: ${features.length} feature values, ${y.length} labels and ${riskLogits.length} logits for ${n} rows`);
  const model = score(Float32Array.from(riskLogits), y, n);
  const none = (warning: string): RiskFusionFit => ({ fusion: null, n, folds: 0, heldOut: { model, fusion: Number.NaN }, warning });
  if (n < MIN_FUSION_ROWS) return none(`${n} validation rows, fewer than ${MIN_FUSION_ROWS}`);
  for (const v of features) if (!Number.isFinite(v)) return none('non-finite fusion features on the validation rows');
  const present = new Set(Array.from(y));
  if (present.size < K) return none(`the validation rows hold ${present.size} of the ${K} risk classes`);
  if (folds && folds.length !== n) throw new RangeError(`fitRiskFusion: ${folds.length} fold ids for ${n} rows`);
  const oof = new Float32Array(n * K);
  let done = 0;
  for (const { id: f, fit: inIdx, held: outIdx } of crossFitFolds(n, folds)) {
    if (inIdx.length < MIN_FUSION_ROWS) return none(`fold ${f} leaves ${inIdx.length} rows to fit on`);
    const fit = fitOn(features, y, inIdx, score);
    const Xo = new Float64Array(outIdx.length * F);
    outIdx.forEach((r, k) => Xo.set(features.subarray(r * F, (r + 1) * F), k * F));
    const z = applyRiskFusion(fit, Xo, outIdx.length);
    outIdx.forEach((r, k) => oof.set(z.subarray(k * K, (k + 1) * K), r * K));
    done++;
  }
  const all = fitOn(features, y, Array.from({ length: n }, (_, i) => i), score);
  return {
    fusion: { features: [...RISK_FUSION_FEATURES], weights: all.weights, offsets: all.offsets },
    n,
    folds: done,
    heldOut: { model, fusion: done >= 2 ? score(oof, y, n) : Number.NaN },
  };
}

/**
 * The fused risk logits [n x 3] of one symbol's rows, as every evaluation and the model's own
 * predictions apply them: the vol cuts read from the risk task's state, the centre from the
 * volatility task's state (the symbol's own under per-symbol label fits), the baselines'
 * outputs on the same rows (each reads bars <= its row). Throws a RangeError naming a missing state field.
 */
export function fusedRiskLogits(
  fusion: Pick<RiskVolFusion, 'weights' | 'offsets'>,
  riskLogits: ArrayLike<number>,
  volForecast: ArrayLike<number>,
  persistence: ArrayLike<number>,
  trailingVol: ArrayLike<number>,
  riskState: Readonly<Record<string, unknown>>,
  volState: Readonly<Record<string, unknown>>,
  n: number,
): Float32Array {
  const cuts = riskState.volCuts;
  const centre = volState.centre;
  if (!Array.isArray(cuts) || cuts.length !== 2 || typeof cuts[0] !== 'number' || typeof cuts[1] !== 'number') throw new RangeError('risk fusion: the risk task state has no volCuts pair');
  if (typeof centre !== 'number') throw new RangeError('risk fusion: the volatility task state has no centre');
  return applyRiskFusion(fusion, riskFusionFeatures({ riskLogits, persistence, volForecast, trailingVol, volCentre: centre, volCuts: [cuts[0], cuts[1]] }, n), n);
}
