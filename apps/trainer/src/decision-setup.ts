/**
 * Which thresholds a decision uses: the model's fitted decision policy (or the source design's
 * numbers with `--thresholds seed`), as a fusion function and the risk config for the gate.
 */
import { policyFusion, seedThresholds, type FusionMethod, type FusionPolicy, type Fuse } from '@task-agnostic/fusion';
import type { DecisionPolicy, TaskAgnosticModel } from '@task-agnostic/model';
import { withRiskOverrides } from '@task-agnostic/risk';
import type { TrainerConfig } from './config.js';

/** 'fitted': the artifact's fitted thresholds (the source's where it has none); 'seed': the source design's numbers. */
export type ThresholdsMode = 'fitted' | 'seed';

export interface DecisionSetup {
  readonly method: FusionMethod;
  readonly fuse: Fuse;
  /** The risk config for the gate (the policy's gate thresholds put in). */
  readonly risk: unknown;
  readonly policy: FusionPolicy | null;
  /** One line saying which thresholds are in force. */
  readonly note: string;
}

export function fmtThresholds(t: Readonly<Record<string, number>>): string {
  return Object.entries(t)
    .map(([k, v]) => `${k} ${+v.toFixed(4)}`)
    .join(', ');
}

/** The fusion and risk settings of a method under a model's policy (or the seed thresholds). */
export function decisionSetup(method: FusionMethod, fusionConfig: unknown, risk: unknown, policyOf: DecisionPolicy | null, mode: ThresholdsMode): DecisionSetup {
  const policy = mode === 'seed' ? null : ((policyOf?.fusions[method] as FusionPolicy | undefined) ?? null);
  const fuse = policyFusion(method, fusionConfig, policy);
  const withGate = policy ? { ...withRiskOverrides(risk, policy.risk), minConfidence: policy.gate.minConfidence, minAgreement: policy.gate.minAgreement } : risk;
  const note = policy
    ? `${method} fusion with thresholds fitted on validation (${fmtThresholds(policy.thresholds)}${policy.options?.directionRule ? `, side ${policy.options.directionRule}` : ''}; source ${fmtThresholds(policy.seed)})`
    : `${method} fusion with the source design's thresholds (${fmtThresholds(seedThresholds(method, fusionConfig))})${mode === 'fitted' ? ': the model carries no fitted policy' : ''}`;
  return { method, fuse, risk: withGate, policy, note };
}

/** The trainer config's fusion under the model's policy. */
export function decisionOf(cfg: TrainerConfig, model: TaskAgnosticModel, mode: ThresholdsMode): DecisionSetup {
  return decisionSetup(cfg.fusion.method, cfg.fusion.config, cfg.risk, model.decisionPolicy, mode);
}

