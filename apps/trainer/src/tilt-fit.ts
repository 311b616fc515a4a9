/**
 * Fitting the tilt policy (fusion's tilt-policy) on the validation bars: the vol-targeted
 * buy-and-hold position, tilted by the heads' standardised signals. The candidates are weight 0
 * (the baseline itself, first, so a tie keeps it) and every weight of TILT_WEIGHTS under every set
 * of heads of TILT_HEAD_SETS (direction alone, return alone, both): the fit may use the head that
 * carries the edge and drop the one that destroys it. Each candidate is backtested on every symbol's
 * validation bars through the engine's signal path (the naive strategies' fills, fees and slippage,
 * rebalanced as the vol-targeted baseline is), scored by the mean annualised net Sharpe ratio over
 * symbols; every candidate is a trial of the deflated Sharpe ratio. Only the rows handed in are read:
 * the validation candles, the model's outputs on them and the volatility forecast at them.
 */
import { barReturns, runSignalBacktest, thinSignal, volTargetFractions } from '@task-agnostic/backtest';
import { sharpeRatio, type CandleColumns, type TaskOutputs } from '@task-agnostic/core';
import { tiltPositions, tiltSignal, type TiltHead, type TiltPolicy } from '@task-agnostic/fusion';
import type { TiltPolicyData } from '@task-agnostic/model';
import { trialSet, type TrialSet } from './deflation.js';

/** Tilt weights tried per head set (per unit of standardised score). */
export const TILT_WEIGHTS: readonly number[] = [0.25, 0.5, 1, 2];
/** Head sets tried. */
export const TILT_HEAD_SETS: readonly (readonly TiltHead[])[] = [['direction'], ['return'], ['direction', 'return']];
/** Largest multiple of the vol-targeted position a tilt may ask for (before the max-leverage cap). */
export const MAX_TILT = 2;

export interface TiltSymbolInput {
  readonly symbol: string;
  /** The validation candles, and the model's outputs and the volatility forecast at each of them. */
  readonly candles: CandleColumns;
  readonly outputs: readonly TaskOutputs[];
  readonly forecast: ArrayLike<number>;
}

export interface TiltFitOptions {
  readonly targetAnnualVol: number;
  readonly maxLeverage: number;
  readonly barsPerYear: number;
  readonly rebalanceEvery: number;
  readonly garchHorizon: number;
  /** The backtest config of the naive strategies (fees, slippage, initial equity), symbol and interval put in per symbol. */
  readonly backtest: Record<string, unknown>;
}

export interface TiltCandidateScore {
  readonly weight: number;
  readonly heads: readonly TiltHead[];
  /** Mean annualised net Sharpe over symbols on validation. */
  readonly objective: number;
  readonly bySymbol: Readonly<Record<string, { sharpe: number; trades: number; turnover: number; feesPaid: number }>>;
}

export interface TiltFitReport {
  readonly objective: string;
  readonly chosen: { readonly weight: number; readonly heads: readonly TiltHead[]; readonly objective: number };
  /** The baseline's (weight 0) validation objective, for comparison. */
  readonly baseline: number;
  readonly candidates: readonly TiltCandidateScore[];
  readonly trials: Readonly<Record<string, TrialSet>>;
  readonly scales: Readonly<Partial<Record<TiltHead, number>>>;
}

/** Standard deviation (n - 1) of each head's raw signal over every symbol's validation outputs; absent heads are left out. */
export function tiltScales(outputs: readonly (readonly TaskOutputs[])[]): Partial<Record<TiltHead, number>> {
  const out: Partial<Record<TiltHead, number>> = {};
  for (const h of ['direction', 'return'] as const) {
    let n = 0;
    let m = 0;
    let m2 = 0;
    for (const rows of outputs) {
      for (const o of rows) {
        const x = tiltSignal(o, h);
        if (x === undefined || !Number.isFinite(x)) continue;
        n++;
        const d = x - m;
        m += d / n;
        m2 += d * (x - m);
      }
    }
    const sd = n > 1 ? Math.sqrt(m2 / (n - 1)) : 0;
    if (sd > 0) out[h] = sd;
  }
  return out;
}

/** Fits the tilt policy on the validation inputs of every symbol (see the file's comment). */
export function fitTiltPolicy(inputs: readonly TiltSymbolInput[], o: TiltFitOptions): { policy: TiltPolicyData; report: TiltFitReport } {
  if (inputs.length === 0) throw new RangeError('fitTiltPolicy needs at least one symbol');
  const scales = tiltScales(inputs.map((i) => i.outputs));
  const vt = { targetAnnualVol: o.targetAnnualVol, maxLeverage: o.maxLeverage, barsPerYear: o.barsPerYear };
  const bases = inputs.map((i) => {
    if (i.outputs.length !== i.candles.length || i.forecast.length !== i.candles.length) {
      throw new RangeError(`${i.symbol}: ${i.outputs.length} outputs and ${i.forecast.length} forecasts for ${i.candles.length} validation candles`);
    }
    return volTargetFractions(i.forecast, vt);
  });
  const candidates: TiltPolicy[] = [{ weight: 0, heads: [], scales: {}, maxTilt: MAX_TILT }];
  for (const heads of TILT_HEAD_SETS) {
    if (!heads.every((h) => scales[h] !== undefined)) continue; // a head the model lacks (or that never moves)
    for (const w of TILT_WEIGHTS) candidates.push({ weight: w, heads: [...heads], scales: Object.fromEntries(heads.map((h) => [h, scales[h]!])), maxTilt: MAX_TILT });
  }
  const perBar: Record<string, number[]> = Object.fromEntries(inputs.map((i) => [i.symbol, [] as number[]]));
  const scored: TiltCandidateScore[] = candidates.map((p) => {
    const bySymbol: Record<string, { sharpe: number; trades: number; turnover: number; feesPaid: number }> = {};
    let sum = 0;
    inputs.forEach((inp, k) => {
      const signal = thinSignal(tiltPositions(inp.outputs, bases[k]!, p, o.maxLeverage), o.rebalanceEvery);
      const res = runSignalBacktest(inp.candles, signal, { ...(o.backtest as object), symbol: inp.symbol });
      const m = res.metrics;
      const sharpe = Number.isFinite(m.sharpe) ? m.sharpe : 0;
      bySymbol[inp.symbol] = { sharpe, trades: m.trades, turnover: m.turnover, feesPaid: m.feesPaid };
      perBar[inp.symbol]!.push(sharpeRatio(barReturns(res)));
      sum += sharpe;
    });
    return { weight: p.weight, heads: p.heads, objective: sum / inputs.length, bySymbol };
  });
  // ties keep the earlier candidate: the baseline first
  let best = 0;
  for (let k = 1; k < scored.length; k++) if (scored[k]!.objective > scored[best]!.objective) best = k;
  const chosen = candidates[best]!;
  const policy: TiltPolicyData = {
    weight: chosen.weight,
    heads: [...chosen.heads],
    scales: { ...chosen.scales },
    maxTilt: chosen.maxTilt,
    base: { volatility: 'garch', garchHorizon: o.garchHorizon, rebalanceEvery: o.rebalanceEvery },
  };
  const report: TiltFitReport = {
    objective: `mean over symbols of the tilted vol-targeted position's annualised net Sharpe ratio on the validation bars (engine fees and slippage, rebalanced every ${o.rebalanceEvery} bars); weight 0 is vol-targeted buy-and-hold`,
    chosen: { weight: chosen.weight, heads: [...chosen.heads], objective: scored[best]!.objective },
    baseline: scored[0]!.objective,
    candidates: scored,
    trials: Object.fromEntries(inputs.map((i) => [i.symbol, trialSet(perBar[i.symbol]!)])),
    scales,
  };
  return { policy, report };
}

/** The tilt policy's positions over a range (the trainer's backtests): the fitted policy on the vol-targeted base, thinned like the baseline. */
export function tiltSignalOf(policy: TiltPolicyData, outputs: readonly TaskOutputs[], forecast: ArrayLike<number>, vt: { targetAnnualVol: number; maxLeverage: number; barsPerYear: number }): Float64Array {
  const base = volTargetFractions(forecast, vt);
  return thinSignal(tiltPositions(outputs, base, policy, vt.maxLeverage), policy.base.rebalanceEvery);
}
