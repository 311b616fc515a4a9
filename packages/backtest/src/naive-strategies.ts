/**
 * The naive strategies every model strategy is judged against, as precomputed signals for the
 * engine's signal path (same account, fees and slippage as the model's decisions):
 * - buy-and-hold: long the whole account from the first fill on;
 * - volatility-targeted buy-and-hold: long targetVol / forecast, capped at maxLeverage;
 * - time-series momentum: sign of the trailing N-bar return x the same volatility-targeted size.
 * Signal[t] is decided at bar t's close from bars <= t (the forecast passed in must obey the same
 * rule: forecast[t] = the per-bar volatility expected for the bars after t, from bars <= t).
 */
import { DataError } from '@task-agnostic/core';
import type { CandleColumns } from '@task-agnostic/core';

export interface VolTargetOptions {
  /** Annualised volatility aimed at (0.4 = 40%). */
  readonly targetAnnualVol: number;
  /** Bars in 365 days (8760 for 1h). */
  readonly barsPerYear: number;
  /** Largest position as a fraction of equity (1 = no leverage). */
  readonly maxLeverage: number;
  /** Per-bar forecasts below this are floored (default 1e-4). */
  readonly minVolatility?: number;
}

export interface NaiveStrategyOptions extends Partial<VolTargetOptions> {
  /**
   * forecast[t]: per-bar volatility expected after bar t, known at its close (e.g. a GARCH(1,1)
   * forecast fitted on the training range). Without it the volatility-targeted strategies are skipped.
   */
  readonly volatilityForecast?: ArrayLike<number>;
  /** Trailing return window of time-series momentum, in bars (default 168 = one week of 1h bars). */
  readonly momentumLookback?: number;
  /**
   * The vol-targeted strategies decide every this many bars (default 1: every bar); between, the
   * signal keeps the position. 24 on 1h bars = a daily rebalance, which keeps a per-bar forecast's
   * small moves from paying fees every hour.
   */
  readonly rebalanceEvery?: number;
}

export interface NaiveSignal {
  readonly name: string;
  readonly description: string;
  readonly signal: Float64Array;
}

export const NAIVE_STRATEGY_NAMES = ['buy-and-hold', 'vol-targeted buy-and-hold', 'time-series momentum'] as const;

/** Long `fraction` of equity at the first bar's close (filled at the next open), then kept. */
export function buyAndHoldSignal(n: number, fraction = 1): Float64Array {
  const s = new Float64Array(n).fill(NaN);
  if (n > 0) s[0] = fraction;
  return s;
}

/** targetAnnualVol / (max(forecast, floor) x sqrt(barsPerYear)), capped at maxLeverage, per bar. */
export function volTargetFractions(forecast: ArrayLike<number>, o: VolTargetOptions): Float64Array {
  checkVolOptions(o);
  const floor = o.minVolatility ?? 1e-4;
  const k = o.targetAnnualVol / Math.sqrt(o.barsPerYear);
  const out = new Float64Array(forecast.length);
  for (let t = 0; t < forecast.length; t++) {
    const f = forecast[t]!;
    if (!(f >= 0) || f - f !== 0) throw new DataError(`volatility forecast[${t}] must be a finite number >= 0, got ${String(f)}`);
    out[t] = Math.min(o.maxLeverage, k / Math.max(f, floor));
  }
  return out;
}

/** Volatility-targeted buy-and-hold: long volTargetFractions(forecast)[t] at every bar. */
export function volTargetedBuyAndHoldSignal(forecast: ArrayLike<number>, o: VolTargetOptions): Float64Array {
  return volTargetFractions(forecast, o);
}

/**
 * Time-series momentum (Moskowitz, Ooi and Pedersen 2012): sign(close[t] / close[t - lookback] - 1)
 * x the volatility-targeted size; flat until `lookback` bars have closed and on a zero return.
 */
export function momentumSignal(close: ArrayLike<number>, lookback: number, forecast: ArrayLike<number>, o: VolTargetOptions): Float64Array {
  if (!Number.isInteger(lookback) || lookback < 1) throw new DataError(`momentum lookback must be an integer >= 1, got ${lookback}`);
  if (forecast.length !== close.length) throw new DataError(`volatility forecast has ${forecast.length} values for ${close.length} candles`);
  const size = volTargetFractions(forecast, o);
  const out = new Float64Array(close.length);
  for (let t = lookback; t < close.length; t++) {
    const r = close[t]! / close[t - lookback]! - 1;
    out[t] = r > 0 ? size[t]! : r < 0 ? -size[t]! : 0;
  }
  return out;
}

/** Keeps every k-th value (from the first) and NaN (keep the position) in between. */
export function thinSignal(signal: Float64Array, every: number): Float64Array {
  if (!Number.isInteger(every) || every < 1) throw new DataError(`rebalanceEvery must be an integer >= 1, got ${every}`);
  if (every === 1) return signal;
  for (let t = 0; t < signal.length; t++) if (t % every !== 0) signal[t] = NaN;
  return signal;
}

/** The naive strategies' signals over these candles (the volatility-targeted ones only with a forecast). */
export function naiveSignals(candles: CandleColumns, o: NaiveStrategyOptions = {}): NaiveSignal[] {
  const n = candles.length;
  const out: NaiveSignal[] = [{ name: 'buy-and-hold', description: 'long the whole account from the first bar, kept to the end', signal: buyAndHoldSignal(n) }];
  const f = o.volatilityForecast;
  if (!f) return out;
  if (f.length !== n) throw new DataError(`volatility forecast has ${f.length} values for ${n} candles`);
  const vt: VolTargetOptions = {
    targetAnnualVol: o.targetAnnualVol ?? 0.4,
    barsPerYear: o.barsPerYear ?? 8760,
    maxLeverage: o.maxLeverage ?? 1,
    ...(o.minVolatility !== undefined ? { minVolatility: o.minVolatility } : {}),
  };
  const lb = o.momentumLookback ?? 168;
  const every = o.rebalanceEvery ?? 1;
  const tv = `${(vt.targetAnnualVol * 100).toFixed(0)}% vol target, at most ${vt.maxLeverage}x${every > 1 ? `, rebalanced every ${every} bars` : ''}`;
  out.push({ name: 'vol-targeted buy-and-hold', description: `long, sized to a ${tv}`, signal: thinSignal(volTargetedBuyAndHoldSignal(f, vt), every) });
  out.push({ name: 'time-series momentum', description: `sign of the trailing ${lb}-bar return, sized to a ${tv}`, signal: thinSignal(momentumSignal(candles.close, lb, f, vt), every) });
  return out;
}

function checkVolOptions(o: VolTargetOptions): void {
  for (const k of ['targetAnnualVol', 'barsPerYear', 'maxLeverage'] as const) {
    if (!(o[k] > 0) || !Number.isFinite(o[k])) throw new DataError(`${k} must be a finite number > 0, got ${String(o[k])}`);
  }
}
