/**
 * Probabilistic and deflated Sharpe ratios (Bailey & Lopez de Prado 2012, "The Sharpe Ratio
 * Efficient Frontier"; 2014, "The Deflated Sharpe Ratio").
 *
 * PSR(SR*) = Phi( (SR - SR*) sqrt(T - 1) / sqrt(1 - skew SR + (kurt - 1) / 4 SR^2) ): the
 * probability that the true Sharpe ratio exceeds SR*, given T returns with that skewness and
 * (non-excess) kurtosis. All Sharpe ratios here are per period, not annualised.
 *
 * DSR = PSR(SR0) with SR0 the expected maximum Sharpe ratio of N unskilled trials whose Sharpe
 * ratios vary with variance V: SR0 = sqrt(V) ((1 - g) Phi^-1(1 - 1/N) + g Phi^-1(1 - 1/(N e))),
 * g the Euler-Mascheroni constant. It deflates a Sharpe ratio for the configurations tried.
 */
import { ConfigError } from './errors.js';
import { normalCdf, normalQuantile } from './distributions.js';
import { excessKurtosis, skewness } from './stats.js';
import { sharpeRatio } from './sharpe.js';

const EULER_MASCHERONI = 0.5772156649015329;

export interface SharpeMoments {
  /** Per-period Sharpe ratio. */
  sharpe: number;
  /** Number of return observations. */
  n: number;
  /** Skewness of the returns (0 for normal). */
  skewness: number;
  /** Kurtosis, not in excess (3 for normal). */
  kurtosis: number;
}

/** Sharpe ratio, length, skewness and kurtosis of a return series. */
export function sharpeMoments(returns: ArrayLike<number>): SharpeMoments {
  return { sharpe: sharpeRatio(returns), n: returns.length, skewness: skewness(returns), kurtosis: excessKurtosis(returns) + 3 };
}

/** Probability that the true per-period Sharpe ratio exceeds `benchmark` (default 0). */
export function probabilisticSharpeRatio(m: SharpeMoments, benchmark = 0): number {
  if (m.n < 2) return NaN;
  const den = 1 - m.skewness * m.sharpe + ((m.kurtosis - 1) / 4) * m.sharpe * m.sharpe;
  if (!(den > 0)) return NaN;
  return normalCdf(((m.sharpe - benchmark) * Math.sqrt(m.n - 1)) / Math.sqrt(den));
}

/**
 * Expected maximum per-period Sharpe ratio among `trials` independent unskilled configurations
 * whose Sharpe ratios have variance `trialsSharpeVariance` (per period). 0 for one trial.
 */
export function expectedMaxSharpe(trials: number, trialsSharpeVariance: number): number {
  if (!(trials >= 1)) throw new ConfigError(`trials must be >= 1, got ${trials}`, 'trials');
  if (!(trialsSharpeVariance >= 0)) throw new ConfigError(`trialsSharpeVariance must be >= 0, got ${trialsSharpeVariance}`, 'trialsSharpeVariance');
  if (trials === 1) return 0;
  const z =
    (1 - EULER_MASCHERONI) * normalQuantile(1 - 1 / trials) + EULER_MASCHERONI * normalQuantile(1 - 1 / (trials * Math.E));
  return Math.sqrt(trialsSharpeVariance) * z;
}

export interface DeflatedSharpe {
  /** Probability that the true Sharpe ratio exceeds what the best of the trials would show by luck. */
  dsr: number;
  /** The deflating benchmark SR0 (per period). */
  benchmark: number;
  /** PSR against zero, for comparison. */
  psr: number;
  trials: number;
}

/** Deflated Sharpe ratio of a strategy picked as the best of `trials` configurations. */
export function deflatedSharpeRatio(m: SharpeMoments, trials: number, trialsSharpeVariance: number): DeflatedSharpe {
  const benchmark = expectedMaxSharpe(trials, trialsSharpeVariance);
  return { dsr: probabilisticSharpeRatio(m, benchmark), benchmark, psr: probabilisticSharpeRatio(m, 0), trials };
}
