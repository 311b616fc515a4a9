/**
 * The Sharpe ratio with its sampling error (Lo 2002, "The Statistics of Sharpe Ratios") and its
 * annualisation under serial correlation.
 *
 * - i.i.d. normal returns: SE(SR) = sqrt((1 + SR^2 / 2) / T)  (Lo 2002, eq. 10).
 * - Non-normal and autocorrelated returns: the GMM / delta-method form of Lo 2002 (section 3.2),
 *   with a Newey-West (Bartlett) estimate of the covariance of the moment conditions
 *   (r - mu, (r - mu)^2 - sigma^2). With no lags this is
 *   sqrt((1 - skew * SR + (kurt - 1) / 4 * SR^2) / T) (Mertens 2002), kurt not in excess.
 * - Annualising q periods: SR(q) = eta(q) SR with eta(q) = q / sqrt(q + 2 sum_{k<q} (q - k) rho_k)
 *   (Lo 2002, eq. 19); sqrt(q) when the returns are uncorrelated. Autocorrelations beyond the
 *   estimated lag window count as zero.
 */
import { ConfigError } from './errors.js';
import { normalQuantile } from './distributions.js';

type Num = ArrayLike<number>;

/** Per-period Sharpe ratio mean / sample standard deviation (no risk-free rate: pass excess returns). */
export function sharpeRatio(returns: Num): number {
  const n = returns.length;
  if (n < 2) return NaN;
  let m = 0;
  for (let i = 0; i < n; i++) m += returns[i]!;
  m /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (returns[i]! - m) ** 2;
  v /= n - 1;
  return v > 0 ? m / Math.sqrt(v) : NaN;
}

/** Lo (2002) eq. 10: standard error of a per-period Sharpe ratio from T i.i.d. normal returns. */
export function sharpeStandardErrorIid(sharpe: number, n: number): number {
  return Math.sqrt((1 + (sharpe * sharpe) / 2) / n);
}

/** Newey-West's rule of thumb for the lag window: floor(4 (T / 100)^(2/9)). */
export function neweyWestLags(n: number): number {
  return Math.max(0, Math.floor(4 * Math.pow(n / 100, 2 / 9)));
}

/**
 * Standard error of the per-period Sharpe ratio, robust to non-normality and (with lags > 0)
 * serial correlation: Lo's GMM estimator with a Newey-West covariance. `lags` defaults to
 * Newey-West's rule; 0 gives the i.i.d. non-normal (Mertens) form.
 */
export function sharpeStandardError(returns: Num, lags = neweyWestLags(returns.length)): number {
  const n = returns.length;
  if (n < 3) return NaN;
  let mu = 0;
  for (let i = 0; i < n; i++) mu += returns[i]!;
  mu /= n;
  const a = new Float64Array(n);
  const b = new Float64Array(n);
  let s2 = 0;
  for (let i = 0; i < n; i++) s2 += (returns[i]! - mu) ** 2;
  s2 /= n;
  if (!(s2 > 0)) return NaN;
  for (let i = 0; i < n; i++) {
    const d = returns[i]! - mu;
    a[i] = d;
    b[i] = d * d - s2;
  }
  const L = Math.min(Math.max(0, Math.floor(lags)), n - 1);
  // Omega = Gamma_0 + sum_j w_j (Gamma_j + Gamma_j'), Gamma_j = (1/n) sum_t psi_t psi_{t-j}'.
  let saa = 0;
  let sab = 0;
  let sbb = 0;
  for (let j = 0; j <= L; j++) {
    let caa = 0;
    let cab = 0;
    let cba = 0;
    let cbb = 0;
    for (let t = j; t < n; t++) {
      caa += a[t]! * a[t - j]!;
      cab += a[t]! * b[t - j]!;
      cba += b[t]! * a[t - j]!;
      cbb += b[t]! * b[t - j]!;
    }
    if (j === 0) {
      saa += caa / n;
      sab += cab / n;
      sbb += cbb / n;
    } else {
      const w = 1 - j / (L + 1);
      saa += (w * 2 * caa) / n;
      sab += (w * (cab + cba)) / n;
      sbb += (w * 2 * cbb) / n;
    }
  }
  const sigma = Math.sqrt(s2);
  const ga = 1 / sigma;
  const gb = -mu / (2 * sigma * s2);
  const v = ga * ga * saa + 2 * ga * gb * sab + gb * gb * sbb;
  return v > 0 ? Math.sqrt(v / n) : NaN;
}

/** Lo (2002) eq. 19: eta(q) with rho[k - 1] the lag-k autocorrelation (missing lags count as 0). */
export function loEta(rho: Num, q: number): number {
  let s = 0;
  const kmax = Math.min(rho.length, Math.ceil(q) - 1);
  for (let k = 1; k <= kmax; k++) s += (q - k) * rho[k - 1]!;
  const den = q + 2 * s;
  return den > 0 ? q / Math.sqrt(den) : Math.sqrt(q);
}

export interface SharpeOptions {
  /** Periods per year (e.g. 8760 for 1h bars); the annualised figures use it. */
  periodsPerYear: number;
  /** Confidence level of the interval (default 0.95). */
  confidence?: number;
  /** Lag window for the Newey-West SE and eta(q) (default Newey-West's rule). */
  lags?: number;
  /** Number of trades behind the returns, reported beside the Sharpe ratio. */
  trades?: number;
  /** Annualise with Lo's eta(q) (default true); false uses sqrt(q). */
  autocorrelationAdjusted?: boolean;
}

export interface SharpeEstimate {
  /** Per-period Sharpe ratio. */
  sharpe: number;
  /** Its HAC standard error (Lo 2002 GMM, Newey-West). */
  se: number;
  /** Its i.i.d.-normal standard error (Lo 2002 eq. 10), for comparison. */
  seIid: number;
  /** Annualised Sharpe ratio eta(q) * sharpe. */
  annualised: number;
  annualisedSe: number;
  /** Normal-approximation interval of the annualised ratio. */
  lo: number;
  hi: number;
  confidence: number;
  /** Return observations (bars). */
  n: number;
  trades: number | undefined;
  periodsPerYear: number;
  /** The annualisation factor used (sqrt(q) for uncorrelated returns). */
  eta: number;
  lags: number;
}

/** Sharpe ratio, standard error and annualised interval of a return series (per period, excess). */
export function sharpeWithInterval(returns: Num, options: SharpeOptions): SharpeEstimate {
  const { periodsPerYear } = options;
  if (!(periodsPerYear > 0)) throw new ConfigError(`periodsPerYear must be > 0, got ${periodsPerYear}`, 'periodsPerYear');
  const confidence = options.confidence ?? 0.95;
  if (!(confidence > 0 && confidence < 1)) throw new ConfigError(`confidence must be in (0, 1), got ${confidence}`, 'confidence');
  const n = returns.length;
  const lags = Math.min(options.lags ?? neweyWestLags(n), Math.max(0, n - 1));
  const sharpe = sharpeRatio(returns);
  const se = sharpeStandardError(returns, lags);
  let eta = Math.sqrt(periodsPerYear);
  if ((options.autocorrelationAdjusted ?? true) && lags > 0 && n > 2) {
    let m = 0;
    for (let i = 0; i < n; i++) m += returns[i]!;
    m /= n;
    let den = 0;
    for (let i = 0; i < n; i++) den += (returns[i]! - m) ** 2;
    const rho = new Float64Array(lags);
    for (let k = 1; k <= lags; k++) {
      let num = 0;
      for (let i = k; i < n; i++) num += (returns[i]! - m) * (returns[i - k]! - m);
      rho[k - 1] = den > 0 ? num / den : 0;
    }
    eta = loEta(rho, periodsPerYear);
  }
  const z = normalQuantile(0.5 + confidence / 2);
  const annualised = sharpe * eta;
  const annualisedSe = se * eta;
  return {
    sharpe,
    se,
    seIid: sharpeStandardErrorIid(sharpe, n),
    annualised,
    annualisedSe,
    lo: annualised - z * annualisedSe,
    hi: annualised + z * annualisedSe,
    confidence,
    n,
    trades: options.trades,
    periodsPerYear,
    eta,
    lags,
  };
}

/**
 * "Sharpe 1.23 [95% CI -0.40, 2.86], 154 trades, 8760 bars" - the only way a Sharpe ratio should be
 * printed. Marks "too few to judge" under 30 bars or 10 trades.
 */
export function formatSharpe(s: SharpeEstimate, digits = 2): string {
  const f = (v: number): string => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');
  const pct = Math.round(s.confidence * 100);
  const trades = s.trades === undefined ? '' : `, ${s.trades} trade${s.trades === 1 ? '' : 's'}`;
  const few = s.n < 30 || (s.trades !== undefined && s.trades < 10) ? ' (too few to judge)' : '';
  return `Sharpe ${f(s.annualised)} [${pct}% CI ${f(s.lo)}, ${f(s.hi)}]${trades}, ${s.n} bars${few}`;
}
