/**
 * What the task heads answer, in one typed record shared by heads (decode), model (predict),
 * fusion, risk and the trader. A model carries only the tasks it was trained on, so every task is
 * optional; custom tasks add their own keys under `custom`.
 */

/** The five market regimes of the source design. */
export const REGIMES = ['bull', 'bear', 'sideways', 'high_volatility', 'low_volatility'] as const;
export type Regime = (typeof REGIMES)[number];

export const DIRECTION_CLASSES = ['up', 'down', 'sideways'] as const;
export type DirectionClass = (typeof DIRECTION_CLASSES)[number];

export const RISK_LEVELS = ['low', 'medium', 'high'] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

/** Probabilities of the next-horizon move; they sum to 1. */
export interface DirectionOutput {
  readonly up: number;
  readonly down: number;
  readonly sideways: number;
}

/** Forward realised volatility: per-bar std of log returns over the horizon, and its percentile (0..1) against trailing history. */
export interface VolatilityOutput {
  readonly expected: number;
  readonly percentile: number;
}

export interface RegimeOutput {
  readonly label: Regime;
  /** Probability of each regime; they sum to 1. */
  readonly probs: Readonly<Record<Regime, number>>;
  /** Probability of `label`. */
  readonly confidence: number;
}

/** Forward log return over the horizon: Gaussian mean and standard deviation. */
export interface ReturnOutput {
  readonly expected: number;
  readonly std: number;
}

export interface RiskOutput {
  readonly level: RiskLevel;
  readonly probs: Readonly<Record<RiskLevel, number>>;
}

/** Probability of an extreme move (|forward return| above k sigma) within the horizon. */
export interface AnomalyOutput {
  readonly probability: number;
}

/** Probability that entering now beats entering at the best of the next k bars by more than costs. */
export interface TimingOutput {
  readonly enterNow: number;
}

export interface TaskOutputs {
  readonly direction?: DirectionOutput;
  readonly volatility?: VolatilityOutput;
  readonly regime?: RegimeOutput;
  readonly return?: ReturnOutput;
  readonly risk?: RiskOutput;
  readonly anomaly?: AnomalyOutput;
  readonly timing?: TimingOutput;
  /** Outputs of tasks defined outside the toolkit, keyed by task id. */
  readonly custom?: Readonly<Record<string, unknown>>;
}

/** The ids of the built-in tasks, in the order they appear in TaskOutputs. */
export const BUILTIN_TASK_IDS = ['direction', 'volatility', 'regime', 'return', 'risk', 'anomaly', 'timing'] as const;
export type BuiltinTaskId = (typeof BUILTIN_TASK_IDS)[number];
