/**
 * Diebold-Mariano test of equal forecast accuracy (Diebold & Mariano 1995), with the small-sample
 * correction of Harvey, Leybourne & Newbold (1997), for forecast tasks (volatility, return):
 * given the per-window losses of two forecasts of the same targets (e.g. squared errors),
 * is the mean loss difference d = loss1 - loss2 zero?
 *
 *   DM  = mean(d) / sqrt(V / T),   V = gamma_0 + 2 sum_{k=1}^{h-1} gamma_k   (h-step forecasts)
 *   HLN = DM * sqrt((T + 1 - 2h + h(h - 1) / T) / T),   p-value from Student-t with T - 1 dof.
 *
 * As in R's forecast::dm.test. If the truncated long-run variance V is not positive (possible
 * for h > 2), Bartlett weights (1 - k/h) are used instead, which keep it non-negative.
 */
import { ConfigError } from './errors.js';
import { normalCdf, studentTCdf } from './distributions.js';

export interface DieboldMarianoOptions {
  /** Forecast horizon in windows (default 1); the overlap of h-step forecasts makes d MA(h-1). */
  horizon?: number;
  /** Apply the Harvey-Leybourne-Newbold correction and Student-t p-values (default true). */
  hln?: boolean;
}

export interface DieboldMarianoResult {
  /** The (corrected) statistic; negative when the first forecast has the lower loss. */
  statistic: number;
  /** Two-sided p-value. */
  pValue: number;
  /** mean(loss1 - loss2). */
  meanDifference: number;
  /** Long-run variance of d used. */
  longRunVariance: number;
  n: number;
  horizon: number;
  hln: boolean;
}

export function dieboldMariano(loss1: ArrayLike<number>, loss2: ArrayLike<number>, options: DieboldMarianoOptions = {}): DieboldMarianoResult {
  const n = loss1.length;
  if (loss2.length !== n) throw new ConfigError(`Diebold-Mariano: loss series differ in length (${n} vs ${loss2.length})`, 'loss2');
  const h = options.horizon ?? 1;
  const hln = options.hln ?? true;
  if (!Number.isInteger(h) || h < 1) throw new ConfigError(`horizon must be a positive integer, got ${h}`, 'horizon');
  if (n < 2 || n <= h) throw new ConfigError(`Diebold-Mariano needs more than ${Math.max(1, h)} windows, got ${n}`, 'loss1');
  const d = new Float64Array(n);
  let mean = 0;
  for (let i = 0; i < n; i++) {
    const v = loss1[i]! - loss2[i]!;
    if (!Number.isFinite(v)) throw new ConfigError(`Diebold-Mariano: loss ${i} is not finite`, 'loss1');
    d[i] = v;
    mean += v;
  }
  mean /= n;
  const gamma = (k: number): number => {
    let s = 0;
    for (let t = k; t < n; t++) s += (d[t]! - mean) * (d[t - k]! - mean);
    return s / n;
  };
  const g = Array.from({ length: h }, (_, k) => gamma(k));
  let v = g[0]!;
  for (let k = 1; k < h; k++) v += 2 * g[k]!;
  if (!(v > 0)) {
    v = g[0]!;
    for (let k = 1; k < h; k++) v += 2 * (1 - k / h) * g[k]!;
  }
  let statistic = v > 0 ? mean / Math.sqrt(v / n) : mean === 0 ? 0 : Math.sign(mean) * Infinity;
  let pValue: number;
  if (hln) {
    statistic *= Math.sqrt((n + 1 - 2 * h + (h * (h - 1)) / n) / n);
    pValue = 2 * studentTCdf(-Math.abs(statistic), n - 1);
  } else {
    pValue = 2 * normalCdf(-Math.abs(statistic));
  }
  return { statistic, pValue, meanDifference: mean, longRunVariance: v, n, horizon: h, hln };
}
