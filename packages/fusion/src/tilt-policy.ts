/**
 * The tilt policy: the volatility-targeted long position (the naive baseline every strategy is
 * judged against) tilted by the model's calibrated view. Exposure = base x clamp(1 + weight x score,
 * 0, maxTilt), base = target volatility / forecast (capped by the caller's max leverage), score = the
 * mean of the heads' standardised signals it reads:
 *   direction: (p_up - p_down) / its validation std;   return: clamp(mu / sigma, -1, 1) / its validation std.
 * weight 0 is the baseline itself, so a fit on validation that finds no edge falls back to it; the
 * heads read (direction, return, or both) are a fitted choice, so a head that destroys value can be
 * dropped. A decision whose outputs lack a head the policy reads holds (keeps the position) and
 * names the absent signal.
 */
import type { TaskOutputs } from '@task-agnostic/core';
import { ConfigError } from '@task-agnostic/core';

export type TiltHead = 'direction' | 'return';

/** A tilt policy as it travels in the model artifact (fitted on validation). */
export interface TiltPolicy {
  /** Tilt per unit of standardised score; 0 = the vol-targeted baseline. */
  readonly weight: number;
  /** The heads whose signals make the score (empty only with weight 0). */
  readonly heads: readonly TiltHead[];
  /** Validation std of each head's raw signal, by head (the score's scale). */
  readonly scales: Readonly<Partial<Record<TiltHead, number>>>;
  /** Largest multiplier of the baseline position (the floor is 0: long or flat, never short). */
  readonly maxTilt: number;
  /**
   * Turnover control (fitted on validation; absent = 0): a no-trade band in exposure (fraction of
   * equity): a rebalance bar trades only when |target - held| exceeds it.
   */
  readonly band?: number | undefined;
  /** Turnover control: half-life in bars of an exponential moving average of the score (0 / absent = the bar's own score). */
  readonly halfLife?: number | undefined;
}

/** Each head's raw signal: direction p_up - p_down; return clamp(mu / sigma, -1, 1). Undefined when the head is absent. */
export function tiltSignal(outputs: TaskOutputs, head: TiltHead): number | undefined {
  if (head === 'direction') {
    const d = outputs.direction;
    return d ? d.up - d.down : undefined;
  }
  const r = outputs.return;
  if (!r) return undefined;
  return r.std > 0 ? Math.max(-1, Math.min(1, r.expected / r.std)) : Math.sign(r.expected);
}

export interface TiltDecision {
  /** Multiplier of the baseline position, in [0, maxTilt]; null = hold (a head the policy reads is absent). */
  readonly multiplier: number | null;
  readonly score: number;
  readonly reasoning: string;
}

/** Throws a ConfigError naming the field when a tilt policy is not usable. */
export function checkTiltPolicy(p: TiltPolicy): void {
  if (!Number.isFinite(p.weight) || p.weight < 0) throw new ConfigError(`tilt weight must be a finite number >= 0, got ${p.weight}`, 'decisionPolicy.tilt.weight');
  if (!(p.maxTilt >= 1) || !Number.isFinite(p.maxTilt)) throw new ConfigError(`tilt maxTilt must be a finite number >= 1, got ${p.maxTilt}`, 'decisionPolicy.tilt.maxTilt');
  if (p.band !== undefined && !(p.band >= 0 && Number.isFinite(p.band))) throw new ConfigError(`tilt band must be a finite number >= 0, got ${p.band}`, 'decisionPolicy.tilt.band');
  if (p.halfLife !== undefined && !(p.halfLife >= 0 && Number.isFinite(p.halfLife))) throw new ConfigError(`tilt halfLife must be a finite number >= 0 (bars), got ${p.halfLife}`, 'decisionPolicy.tilt.halfLife');
  if (p.weight > 0 && p.heads.length === 0) throw new ConfigError('a tilt with weight > 0 must read at least one head', 'decisionPolicy.tilt.heads');
  for (const h of p.heads) {
    const s = p.scales[h];
    if (s === undefined || !(s > 0) || !Number.isFinite(s)) throw new ConfigError(`tilt scale of the ${h} head must be a finite number > 0, got ${String(s)}`, `decisionPolicy.tilt.scales.${h}`);
  }
}

/** The multiplier of the baseline position for one bar's outputs. */
export function tiltDecision(outputs: TaskOutputs, p: TiltPolicy): TiltDecision {
  if (p.weight === 0 || p.heads.length === 0) return { multiplier: 1, score: 0, reasoning: 'tilt weight 0: the vol-targeted baseline position' };
  const absent = p.heads.filter((h) => tiltSignal(outputs, h) === undefined);
  if (absent.length) {
    return { multiplier: null, score: Number.NaN, reasoning: `HOLD: the tilt policy reads the ${absent.join(' and ')} head's signal, which is absent from the model's outputs` };
  }
  let score = 0;
  const parts: string[] = [];
  for (const h of p.heads) {
    const z = tiltSignal(outputs, h)! / p.scales[h]!;
    score += z / p.heads.length;
    parts.push(`${h} ${z >= 0 ? '+' : ''}${z.toFixed(2)} std`);
  }
  const m = Math.max(0, Math.min(p.maxTilt, 1 + p.weight * score));
  return { multiplier: m, score, reasoning: `tilt: score ${score.toFixed(3)} (${parts.join(', ')}) -> ${m.toFixed(3)}x the vol-targeted position` };
}

/**
 * Positions for a run of bars: base[t] x multiplier[t], capped at maxLeverage; NaN (keep) where the
 * policy holds. `base` is the vol-targeted fraction per bar (e.g. backtest's volTargetFractions).
 */
export function tiltPositions(outputs: readonly TaskOutputs[], base: ArrayLike<number>, p: TiltPolicy, maxLeverage: number): Float64Array {
  if (base.length !== outputs.length) throw new RangeError(`tiltPositions: ${base.length} base sizes for ${outputs.length} outputs`);
  checkTiltPolicy(p);
  const out = new Float64Array(outputs.length);
  for (let t = 0; t < outputs.length; t++) {
    const m = tiltDecision(outputs[t]!, p).multiplier;
    out[t] = m === null ? Number.NaN : Math.min(maxLeverage, base[t]! * m);
  }
  return out;
}
