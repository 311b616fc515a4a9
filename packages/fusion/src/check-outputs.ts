import { DataError, REGIMES, RISK_LEVELS } from '@task-agnostic/core';
import type { TaskOutputs } from '@task-agnostic/core';

/** The built-in heads fusion reads. */
export const FUSION_HEADS = ['direction', 'volatility', 'regime', 'return', 'risk'] as const;
export type FusionHead = (typeof FUSION_HEADS)[number];

const PROB_TOL = 1e-3;

function finite(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new DataError(`outputs.${field} must be a finite number, got ${String(v)}`);
  return v;
}

function prob(v: unknown, field: string): number {
  const x = finite(v, field);
  if (x < -PROB_TOL || x > 1 + PROB_TOL) throw new DataError(`outputs.${field} must be a probability in [0, 1], got ${x}`);
  return x;
}

/**
 * Checks every head that is present (a missing head is fine: a model may not have it) and
 * returns the names of the missing ones. A present head with NaN, an out-of-range probability or an
 * unknown label is a model bug and throws a DataError naming the field.
 */
export function checkTaskOutputs(outputs: TaskOutputs): FusionHead[] {
  if (outputs === null || typeof outputs !== 'object') throw new DataError(`task outputs must be an object, got ${String(outputs)}`);
  const missing: FusionHead[] = [];
  const d = outputs.direction;
  if (d) {
    const sum = prob(d.up, 'direction.up') + prob(d.down, 'direction.down') + prob(d.sideways, 'direction.sideways');
    if (Math.abs(sum - 1) > 0.01) throw new DataError(`outputs.direction probabilities must sum to 1, got ${sum}`);
  } else missing.push('direction');
  const v = outputs.volatility;
  if (v) {
    const e = finite(v.expected, 'volatility.expected');
    if (e < 0) throw new DataError(`outputs.volatility.expected must be >= 0, got ${e}`);
    prob(v.percentile, 'volatility.percentile');
  } else missing.push('volatility');
  const r = outputs.regime;
  if (r) {
    if (!(REGIMES as readonly string[]).includes(r.label)) {
      throw new DataError(`outputs.regime.label must be one of ${REGIMES.join(', ')}, got ${String(r.label)}`);
    }
    if (r.probs) for (const k of REGIMES) if (r.probs[k] !== undefined) prob(r.probs[k], `regime.probs.${k}`);
  } else missing.push('regime');
  const ret = outputs.return;
  if (ret) {
    finite(ret.expected, 'return.expected');
    const s = finite(ret.std, 'return.std');
    if (s < 0) throw new DataError(`outputs.return.std must be >= 0, got ${s}`);
  } else missing.push('return');
  const k = outputs.risk;
  if (k) {
    if (!(RISK_LEVELS as readonly string[]).includes(k.level)) {
      throw new DataError(`outputs.risk.level must be one of ${RISK_LEVELS.join(', ')}, got ${String(k.level)}`);
    }
    for (const l of RISK_LEVELS) prob(k.probs?.[l], `risk.probs.${l}`);
  } else missing.push('risk');
  return missing;
}
