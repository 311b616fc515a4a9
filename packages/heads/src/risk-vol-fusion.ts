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
 *
 * This is the risk instance of the generic head fusion (head-fusion.ts): these functions are its
 * 3-class, no-direction, no-trailing-window case, kept for the risk fusion's callers and artifacts.
 */
import { RISK_LEVELS } from '@task-agnostic/core';
import { applyHeadFusion, fitHeadFusion, fusedHeadLogits, headFusionFeatureNames, headFusionFeatures, MIN_FUSION_ROWS, type HeadFusionData, type HeadFusionFit, type HeadFusionInputs, type HeadFusionSpec } from './head-fusion.js';

export { MIN_FUSION_ROWS };

const RISK_SPEC: HeadFusionSpec = { task: 'risk', classes: RISK_LEVELS };

/** The fused features, in the order of the weight rows 1..F (headFusionFeatureNames of the risk task). */
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

if (headFusionFeatureNames(RISK_SPEC).join(',') !== RISK_FUSION_FEATURES.join(',')) throw new Error('risk fusion: the generic feature names drifted from RISK_FUSION_FEATURES');

/** The fusion as it travels in the model artifact (plain JSON): a head fusion of the risk task (features RISK_FUSION_FEATURES, 3 classes). */
export type RiskVolFusion = Pick<HeadFusionData, 'task' | 'volatilityTask' | 'features' | 'weights' | 'offsets'>;

/** What the features are computed from, for n rows of one symbol: HeadFusionInputs with the risk head's raw logits [n x 3] as `riskLogits`. */
export type RiskFusionInputs = Omit<HeadFusionInputs, 'headLogits' | 'directionLogits' | 'trailing'> & { readonly riskLogits: ArrayLike<number> };

/** The features [n x F] of the fusion (RISK_FUSION_FEATURES order). Throws on bad shapes or cuts. */
export function riskFusionFeatures(inp: RiskFusionInputs, n: number): Float64Array {
  const { riskLogits, ...rest } = inp;
  return headFusionFeatures(RISK_SPEC, { headLogits: riskLogits, ...rest }, n);
}

/** The fused risk logits [n x 3] (weights, then offsets) from the features [n x F]. */
export function applyRiskFusion(fusion: Pick<RiskVolFusion, 'weights' | 'offsets'>, features: ArrayLike<number>, n: number): Float32Array {
  if (fusion.offsets.length !== 3) throw new RangeError(`risk fusion: ${fusion.offsets.length} offsets for 3 classes`);
  return applyHeadFusion(fusion, features, n);
}

export type RiskFusionFit = HeadFusionFit;

/** fitHeadFusion for the risk features (see there). */
export function fitRiskFusion(
  features: Float64Array,
  y: Float32Array,
  riskLogits: ArrayLike<number>,
  n: number,
  score: (outputs: Float32Array, targets: Float32Array, n: number) => number,
  folds?: ArrayLike<number>,
): RiskFusionFit {
  return fitHeadFusion(RISK_FUSION_FEATURES, features, y, riskLogits, n, 3, score, folds, { taskName: 'risk' });
}

/** fusedHeadLogits for a risk fusion (see there). */
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
  const f = { task: 'risk', volatilityTask: 'volatility', features: RISK_FUSION_FEATURES, weights: fusion.weights, offsets: fusion.offsets };
  return fusedHeadLogits(f, RISK_LEVELS, undefined, { headLogits: riskLogits, volForecast, persistence, trailingVol }, riskState, volState, n);
}
