/**
 * The GARCH(1,1) volatility forecast that sizes the vol-targeted strategies, from fitted parameters:
 * forecast[t] = sqrt of the mean variance of the next `horizon` log returns given closes <= t.
 * The series (a backtest over candles) and the stream (a trader, one closed candle at a time) make
 * the same numbers from the same closes: both start at a close with `initialVariance` (the variance
 * of the return after it) and update it with each log return, sigma2 = omega + alpha e^2 + beta sigma2.
 */
import { DataError } from '@task-agnostic/core';
import { garchMeanForecastVariance, type GarchParams } from './garch.js';

/** Parameters and starting variance of one symbol's forecast (fitted on its training rows). */
export interface GarchVolatilityModel extends GarchParams {
  /** Variance the filter starts from at its first close (the training returns' mean square). */
  readonly initialVariance: number;
}

function check(m: GarchVolatilityModel, horizon: number): void {
  for (const k of ['omega', 'alpha', 'beta', 'mu', 'initialVariance'] as const) {
    if (!Number.isFinite(m[k])) throw new DataError(`GARCH ${k} must be a finite number, got ${String(m[k])}`);
  }
  if (!(m.omega > 0) || m.alpha < 0 || m.beta < 0 || m.initialVariance < 0) throw new DataError('GARCH omega must be > 0 and alpha, beta, initialVariance >= 0');
  if (!Number.isInteger(horizon) || horizon < 1) throw new DataError(`GARCH horizon must be an integer >= 1, got ${horizon}`);
}

const forecastOf = (m: GarchParams, v: number, h: number): number => Math.sqrt(Math.max(0, garchMeanForecastVariance(m, v, h)));

/** The forecast at every close of `close` (the filter starts at close[0]). */
export function garchVolatilitySeries(m: GarchVolatilityModel, close: ArrayLike<number>, horizon: number): Float64Array {
  check(m, horizon);
  const s = new GarchVolatilityStream(m, horizon);
  const out = new Float64Array(close.length);
  for (let t = 0; t < close.length; t++) out[t] = s.next(close[t]!);
  return out;
}

/** The same forecast one close at a time (see the file's comment). */
export class GarchVolatilityStream {
  private v: number;
  private last = Number.NaN;

  constructor(
    readonly model: GarchVolatilityModel,
    readonly horizon: number,
  ) {
    check(model, horizon);
    this.v = model.initialVariance;
  }

  /** Closes seen so far. */
  count = 0;

  /** Feeds the next close (> 0); returns the forecast at it. */
  next(close: number): number {
    if (!(close > 0) || !Number.isFinite(close)) throw new DataError(`GARCH stream: close must be a finite number > 0, got ${String(close)}`);
    const p = this.model;
    if (this.count > 0) {
      const e = Math.log(close / this.last) - p.mu;
      this.v = p.omega + p.alpha * e * e + p.beta * this.v;
    }
    this.last = close;
    this.count++;
    return forecastOf(p, this.v, this.horizon);
  }
}
