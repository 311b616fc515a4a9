import type { TaskOutputs } from '@task-agnostic/core';
import type { Lean } from './agreement.js';

export interface DirectionView {
  readonly lean: Lean;
  /** Probability (or, from the return head, Phi(|mu| / sigma)) behind the lean, in [0, 1]. */
  readonly confidence: number;
  /** Which head the lean came from. */
  readonly source: 'direction' | 'return' | 'none';
  readonly note: string;
}

/** Standard normal CDF (Abramowitz-Stegun 7.1.26 erf, |error| < 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

const pct = (x: number): string => `${(x * 100).toFixed(0)}%`;

/**
 * The side and its confidence (source: DecisionFusion::get_direction): the most probable class
 * of the direction head; ties go to the safer view (sideways before a side). With rule
 * 'up-vs-down' the more probable of up and down (sideways is ignored for the side). Without a direction
 * head the expected-return head decides: long/short when |mu| exceeds the deadband, with
 * confidence Phi(|mu| / sigma) = P(the return has the predicted sign). Without both: neutral, 0.
 */
export function directionView(outputs: TaskOutputs, returnDeadband: number, rule: 'argmax' | 'up-vs-down' = 'argmax'): DirectionView {
  const d = outputs.direction;
  if (d) {
    const probs = `up ${pct(d.up)}, down ${pct(d.down)}, sideways ${pct(d.sideways)}`;
    if (rule === 'up-vs-down') {
      if (d.up > d.down) return { lean: 'long', confidence: d.up, source: 'direction', note: `direction ${probs} -> long (up vs down)` };
      if (d.down > d.up) return { lean: 'short', confidence: d.down, source: 'direction', note: `direction ${probs} -> short (up vs down)` };
      return { lean: 'neutral', confidence: d.sideways, source: 'direction', note: `direction ${probs} -> neutral (up = down)` };
    }
    if (d.up > d.down && d.up > d.sideways) return { lean: 'long', confidence: d.up, source: 'direction', note: `direction ${probs} -> long` };
    if (d.down > d.up && d.down > d.sideways) return { lean: 'short', confidence: d.down, source: 'direction', note: `direction ${probs} -> short` };
    return { lean: 'neutral', confidence: d.sideways, source: 'direction', note: `direction ${probs} -> neutral` };
  }
  const r = outputs.return;
  if (r) {
    const mu = r.expected;
    if (Math.abs(mu) <= returnDeadband) {
      return { lean: 'neutral', confidence: 0, source: 'return', note: `direction head missing; expected return ${(mu * 100).toFixed(2)}% inside the deadband -> neutral` };
    }
    const conf = r.std > 0 ? normalCdf(Math.abs(mu) / r.std) : 1;
    return {
      lean: mu > 0 ? 'long' : 'short',
      confidence: conf,
      source: 'return',
      note: `direction head missing; side from expected return ${(mu * 100).toFixed(2)}% (std ${(r.std * 100).toFixed(2)}%), P(sign) ${conf.toFixed(2)}`,
    };
  }
  return { lean: 'neutral', confidence: 0, source: 'none', note: 'no direction or return head: no side' };
}
