export { consistencyFusion, agreementLevel, FULL_AGREEMENT } from './consistency-fusion.js';
export type { AgreementLevel } from './consistency-fusion.js';
export { weightedSignalFusion, weightedSignal, classifySignal } from './weighted-fusion.js';
export type { SignalType, WeightedSignal } from './weighted-fusion.js';
export { regimeAgreement, returnAgreement, volatilityBand, computeAgreement } from './agreement.js';
export type { Lean, AgreementResult } from './agreement.js';
export { directionView, normalCdf } from './direction.js';
export type { DirectionView } from './direction.js';
export { regimeExits, REGIME_EXIT_MULTIPLIERS } from './exits.js';
export type { Exits } from './exits.js';
export { ConsistencyTracker, consistencyScore } from './consistency-score.js';
export { checkTaskOutputs, FUSION_HEADS } from './check-outputs.js';
export type { FusionHead } from './check-outputs.js';
export {
  consistencyFusionConfigSchema,
  weightedFusionConfigSchema,
  parseConsistencyFusionConfig,
  parseWeightedFusionConfig,
  DEFAULT_CONSISTENCY_FUSION_CONFIG,
  DEFAULT_WEIGHTED_FUSION_CONFIG,
} from './config.js';
export type {
  ConsistencyFusionConfig,
  ConsistencyFusionConfigInput,
  WeightedFusionConfig,
  WeightedFusionConfigInput,
  SharedFusionConfig,
  FusionContext,
} from './config.js';
export { seedThresholds, withPolicy, policyFusion, policyCandidates, searchPolicy, quantiles, longOnly } from './decision-policy.js';
export type { FusionMethod, FusionPolicy, Fuse, PolicyCandidate, CandidateScore, PolicySearchResult } from './decision-policy.js';
export { tiltDecision, tiltPositions, tiltSignal, checkTiltPolicy } from './tilt-policy.js';
export type { TiltPolicy, TiltHead, TiltDecision } from './tilt-policy.js';
export { TiltRunner, TILT_RISK_OVERRIDES } from './tilt-runner.js';
export type { TiltRunnerOptions, TiltTarget } from './tilt-runner.js';
