/**
 * Loss-weighting rules that need only the per-task loss values: equal weights and the source
 * design's loss-ratio rule. Plain functions over numbers.
 */
import { DataError } from '@task-agnostic/core';

function checkLosses(losses: readonly number[], who: string): void {
  if (losses.length === 0) throw new DataError(`${who}: no task losses given`);
  for (let i = 0; i < losses.length; i++) {
    const l = losses[i]!;
    if (!Number.isFinite(l)) throw new DataError(`${who}: loss of task ${i} is ${l}; a task loss must be finite`);
  }
}

/** w_i = 1 for every task (the plain sum of losses). */
export function equalWeights(losses: readonly number[]): number[] {
  checkLosses(losses, 'equalWeights');
  return losses.map(() => 1);
}

/**
 * The source design's gradient balancing (chapter 87, "Gradient Balancing"):
 * lambda_i = (Lbar / L_i) / sum_j (Lbar / L_j), Lbar the mean loss. The weights sum to 1, so a task
 * with a large loss gets a small weight and every task contributes lambda_i * L_i = 1 / sum_j (1/L_j)
 * to the total. Losses are floored at `floor` so that a task whose loss reaches 0 cannot take all
 * the weight through a division by zero.
 */
export function lossRatioWeights(losses: readonly number[], floor = 1e-8): number[] {
  checkLosses(losses, 'lossRatioWeights');
  const l = losses.map((x) => Math.max(x, floor));
  const lbar = l.reduce((a, b) => a + b, 0) / l.length;
  const ratios = l.map((x) => lbar / x);
  const sum = ratios.reduce((a, b) => a + b, 0);
  return ratios.map((r) => r / sum);
}
