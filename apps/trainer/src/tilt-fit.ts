/**
 * Fitting the tilt policy (fusion's tilt-policy and TiltRunner) on the validation bars: the
 * vol-targeted buy-and-hold position, tilted by the heads' standardised signals, with turnover
 * control. The candidates are weight 0 (the baseline itself, first, so a tie keeps it) and every
 * weight of TILT_WEIGHTS under every set of heads of TILT_HEAD_SETS (direction alone, return alone,
 * both): the fit may use the head that carries the edge and drop the one that destroys it; each of
 * them under every no-trade band of TILT_BANDS and (weights > 0) every score half-life of
 * TILT_HALF_LIVES. Each candidate is backtested on every symbol's validation bars exactly as the
 * trader runs it (tiltBacktest: TiltRunner -> the risk gate in 'decision' sizing -> the engine's
 * fills, fees and slippage), scored by the mean annualised net Sharpe ratio over symbols; every
 * candidate is a trial of the deflated Sharpe ratio. Only the rows handed in are read: the
 * validation candles, the model's outputs on them and the volatility forecast at them.
 */
import { barReturns } from '@task-agnostic/backtest';
import { INTERVAL_MS, sharpeRatio, type TaskOutputs } from '@task-agnostic/core';
import { TiltRunner, TILT_RISK_OVERRIDES, tiltSignal, type Fuse, type TiltHead, type TiltPolicy } from '@task-agnostic/fusion';
import type { TiltPolicyData } from '@task-agnostic/model';
import { withRiskOverrides } from '@task-agnostic/risk';
import { backtestOutputs, type SymbolBacktest } from './backtest-run.js';
import { trialSet, type TrialSet } from './deflation.js';
import { riskConfigOf } from './risk-config.js';
import type { TrainerConfig } from './config.js';
import type { SymbolData } from './data-source.js';

/** Tilt weights tried per head set (per unit of standardised score). */
export const TILT_WEIGHTS: readonly number[] = [0.25, 0.5, 1, 2];
/** Head sets tried. */
export const TILT_HEAD_SETS: readonly (readonly TiltHead[])[] = [['direction'], ['return'], ['direction', 'return']];
/** No-trade bands tried (exposure, fraction of equity): a rebalance trades only when |target - held| exceeds it. */
export const TILT_BANDS: readonly number[] = [0, 0.1, 0.2, 0.3];
/** Score smoothing half-lives tried (bars; 0 = the bar's own score). */
export const TILT_HALF_LIVES: readonly number[] = [0, 48];
/** Largest multiple of the vol-targeted position a tilt may ask for (before the max-leverage cap). */
export const MAX_TILT = 2;

/** The risk settings the tilt trades under: fusion's TILT_RISK_OVERRIDES over the configured ones (the trader merges them alike). */
export function tiltRisk(configured: unknown): Record<string, unknown> {
  return withRiskOverrides(configured, TILT_RISK_OVERRIDES);
}

/**
 * The tilt as a fusion function over one range: a fresh TiltRunner fed each bar's outputs and the
 * forecast at it (forecast[k] for the k-th bar of the range, found by its time), deciding from the
 * exposure held at the close. Call once per bar, in order (backtestOutputs does).
 */
export function tiltFuse(policy: TiltPolicy, candles: { readonly tsMs: ArrayLike<number>; readonly length: number }, forecast: ArrayLike<number>, o: { targetAnnualVol: number; maxLeverage: number; barsPerYear: number; rebalanceEvery: number; barMs: number }): Fuse {
  if (forecast.length !== candles.length) throw new RangeError(`tilt: ${forecast.length} forecasts for ${candles.length} bars`);
  const runner = new TiltRunner(policy, o);
  const row = new Map<number, number>();
  for (let k = 0; k < candles.length; k++) row.set(candles.tsMs[k]!, k);
  return (outputs, ctx = {}) => {
    const k = row.get(ctx.tsMs ?? Number.NaN);
    if (k === undefined) throw new RangeError(`tilt: no forecast for the bar at ${String(ctx.tsMs)}`);
    runner.observe(ctx.tsMs!, outputs, forecast[k]!);
    return runner.decide(ctx.heldExposure ?? 0, ctx.symbol, outputs);
  };
}

/**
 * Rows [start, end) of one symbol traded by the tilt policy as the trader trades it: TiltRunner ->
 * the risk gate (tiltRisk over cfg.risk) -> the backtest engine. `forecast[k]` is the volatility
 * forecast at row start + k.
 */
export function tiltBacktest(cfg: TrainerConfig, d: SymbolData, start: number, end: number, outputs: readonly TaskOutputs[], forecast: ArrayLike<number>, policy: TiltPolicy, rebalanceEvery: number): SymbolBacktest {
  const risk = riskConfigOf({ ...cfg, risk: tiltRisk(cfg.risk) }, d.interval);
  const candles = { tsMs: d.candles.tsMs.subarray(start, end), length: end - start };
  const fuse = tiltFuse(policy, candles, forecast, {
    targetAnnualVol: risk.sizing.targetAnnualVol,
    maxLeverage: risk.sizing.maxLeverage,
    barsPerYear: risk.sizing.barsPerYear,
    rebalanceEvery,
    barMs: INTERVAL_MS[d.interval],
  });
  return backtestOutputs(cfg, d, start, end, outputs, fuse, tiltRisk(cfg.risk));
}

export interface TiltSymbolInput {
  readonly data: SymbolData;
  /** The validation rows [start, end), the model's outputs and the volatility forecast at each of them. */
  readonly start: number;
  readonly end: number;
  readonly outputs: readonly TaskOutputs[];
  readonly forecast: ArrayLike<number>;
}

export interface TiltFitOptions {
  readonly rebalanceEvery: number;
  readonly garchHorizon: number;
  /** Each symbol's GARCH fit (stored with the policy for the trader). */
  readonly garch?: Readonly<Record<string, { omega: number; alpha: number; beta: number; mu: number; initialVariance: number }>>;
}

export interface TiltCandidateScore {
  readonly weight: number;
  readonly heads: readonly TiltHead[];
  readonly band: number;
  readonly halfLife: number;
  /** Mean annualised net Sharpe over symbols on validation. */
  readonly objective: number;
  readonly bySymbol: Readonly<Record<string, { sharpe: number; trades: number; turnover: number; feesPaid: number }>>;
}

export interface TiltFitReport {
  readonly objective: string;
  readonly chosen: { readonly weight: number; readonly heads: readonly TiltHead[]; readonly band: number; readonly halfLife: number; readonly objective: number };
  /** The baseline's (weight 0, no band) validation objective, for comparison. */
  readonly baseline: number;
  /** The best candidate without turnover control (band 0, half-life 0): what the fit would pick without it. */
  readonly withoutTurnoverControl?: TiltCandidateScore;
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

/** Every candidate of the fit for these scales: the baseline (weight 0) under each band first, then weights x head sets x bands x half-lives. */
export function tiltCandidates(scales: Partial<Record<TiltHead, number>>): TiltPolicy[] {
  const out: TiltPolicy[] = TILT_BANDS.map((band) => ({ weight: 0, heads: [], scales: {}, maxTilt: MAX_TILT, band, halfLife: 0 }));
  for (const heads of TILT_HEAD_SETS) {
    if (!heads.every((h) => scales[h] !== undefined)) continue; // a head the model lacks (or that never moves)
    for (const w of TILT_WEIGHTS) {
      for (const band of TILT_BANDS) {
        for (const halfLife of TILT_HALF_LIVES) out.push({ weight: w, heads: [...heads], scales: Object.fromEntries(heads.map((h) => [h, scales[h]!])), maxTilt: MAX_TILT, band, halfLife });
      }
    }
  }
  return out;
}

/** Fits the tilt policy on the validation inputs of every symbol (see the file's comment). */
export function fitTiltPolicy(cfg: TrainerConfig, inputs: readonly TiltSymbolInput[], o: TiltFitOptions): { policy: TiltPolicyData; report: TiltFitReport } {
  if (inputs.length === 0) throw new RangeError('fitTiltPolicy needs at least one symbol');
  for (const i of inputs) {
    const n = i.end - i.start;
    if (i.outputs.length !== n || i.forecast.length !== n) throw new RangeError(`${i.data.symbol}: ${i.outputs.length} outputs and ${i.forecast.length} forecasts for ${n} validation candles`);
  }
  const scales = tiltScales(inputs.map((i) => i.outputs));
  const candidates = tiltCandidates(scales);
  const perBar: Record<string, number[]> = Object.fromEntries(inputs.map((i) => [i.data.symbol, [] as number[]]));
  const scored: TiltCandidateScore[] = candidates.map((p) => {
    const bySymbol: Record<string, { sharpe: number; trades: number; turnover: number; feesPaid: number }> = {};
    let sum = 0;
    for (const inp of inputs) {
      const res = tiltBacktest(cfg, inp.data, inp.start, inp.end, inp.outputs, inp.forecast, p, o.rebalanceEvery).result;
      const m = res.metrics;
      const sharpe = Number.isFinite(m.sharpe) ? m.sharpe : 0;
      bySymbol[inp.data.symbol] = { sharpe, trades: m.trades, turnover: m.turnover, feesPaid: m.feesPaid };
      perBar[inp.data.symbol]!.push(sharpeRatio(barReturns(res)));
      sum += sharpe;
    }
    return { weight: p.weight, heads: p.heads, band: p.band ?? 0, halfLife: p.halfLife ?? 0, objective: sum / inputs.length, bySymbol };
  });
  // ties keep the earlier candidate: the baseline first
  let best = 0;
  for (let k = 1; k < scored.length; k++) if (scored[k]!.objective > scored[best]!.objective) best = k;
  let plain = -1;
  for (let k = 0; k < scored.length; k++) if (scored[k]!.band === 0 && scored[k]!.halfLife === 0 && (plain < 0 || scored[k]!.objective > scored[plain]!.objective)) plain = k;
  const chosen = candidates[best]!;
  const policy: TiltPolicyData = {
    weight: chosen.weight,
    heads: [...chosen.heads],
    scales: { ...chosen.scales },
    maxTilt: chosen.maxTilt,
    band: chosen.band ?? 0,
    halfLife: chosen.halfLife ?? 0,
    base: { volatility: 'garch', garchHorizon: o.garchHorizon, rebalanceEvery: o.rebalanceEvery, ...(o.garch ? { garch: { ...o.garch } } : {}) },
  };
  const c = scored[best]!;
  const report: TiltFitReport = {
    objective:
      `mean over symbols of the tilt policy's annualised net Sharpe ratio on the validation bars, traded as the trader trades it (the risk gate in 'decision' sizing, engine fees and slippage; ` +
      `rebalance bars every ${o.rebalanceEvery} bars from 00:00 UTC, a no-trade band of ${TILT_BANDS.join(' / ')} exposure, score half-life ${TILT_HALF_LIVES.join(' / ')} bars); weight 0 is vol-targeted buy-and-hold`,
    chosen: { weight: c.weight, heads: [...c.heads], band: c.band, halfLife: c.halfLife, objective: c.objective },
    baseline: scored[0]!.objective,
    ...(plain >= 0 ? { withoutTurnoverControl: scored[plain]! } : {}),
    candidates: scored,
    trials: Object.fromEntries(inputs.map((i) => [i.data.symbol, trialSet(perBar[i.data.symbol]!)])),
    scales,
  };
  return { policy, report };
}
