/**
 * GARCH(1,1) with Gaussian quasi-likelihood, and the EWMA (RiskMetrics) variance: the volatility
 * task's classical baselines.
 *
 * eps_t = r_t - mu (mu = sample mean, fixed), sigma2_t = omega + alpha eps_{t-1}^2 + beta sigma2_{t-1},
 * sigma2_0 = sample variance (backcast). Fit: Nelder-Mead on unconstrained (a, b, c) with
 * alpha + beta = 0.9999 logistic(a), alpha = (alpha + beta) logistic(b), omega = exp(c), so every
 * candidate is stationary and positive. Two restarts from the best point guard against an early
 * simplex collapse.
 */
import { DataError } from '@task-agnostic/core';
import { nelderMead } from './optimize.js';

export interface GarchParams {
  readonly omega: number;
  readonly alpha: number;
  readonly beta: number;
  readonly mu: number;
}

export interface GarchFit extends GarchParams {
  readonly logLikelihood: number;
  readonly iterations: number;
  readonly converged: boolean;
}

const LOG_2PI = Math.log(2 * Math.PI);
const MAX_PERSISTENCE = 0.9999;

function checkReturns(r: ArrayLike<number>, min: number): void {
  if (r.length < min) throw new DataError(`GARCH needs at least ${min} returns, got ${r.length}`);
  for (let i = 0; i < r.length; i++) if (!Number.isFinite(r[i]!)) throw new DataError(`returns[${i}] = ${r[i]}: must be finite`);
}

function sampleMeanVar(r: ArrayLike<number>): [number, number] {
  let m = 0;
  for (let i = 0; i < r.length; i++) m += r[i]!;
  m /= r.length;
  let v = 0;
  for (let i = 0; i < r.length; i++) v += (r[i]! - m) ** 2;
  return [m, v / r.length];
}

/** Gaussian log-likelihood of `returns` under p (sigma2_0 = sample variance of the returns). */
export function garchLogLikelihood(p: GarchParams, returns: ArrayLike<number>): number {
  const [, v0] = sampleMeanVar(returns);
  let s2 = v0;
  let ll = 0;
  for (let t = 0; t < returns.length; t++) {
    if (t > 0) {
      const e = returns[t - 1]! - p.mu;
      s2 = p.omega + p.alpha * e * e + p.beta * s2;
    }
    const e = returns[t]! - p.mu;
    ll -= 0.5 * (LOG_2PI + Math.log(s2) + (e * e) / s2);
  }
  return ll;
}

function logistic(x: number): number {
  return 1 / (1 + Math.exp(-x));
}
function logit(p: number): number {
  return Math.log(p / (1 - p));
}

function fromFree(x: readonly number[], mu: number): GarchParams {
  const pers = MAX_PERSISTENCE * logistic(x[0]!);
  const alpha = pers * logistic(x[1]!);
  return { omega: Math.exp(x[2]!), alpha, beta: pers - alpha, mu };
}

/** Maximum-likelihood GARCH(1,1) fit of one-bar returns. */
export function fitGarch11(returns: ArrayLike<number>): GarchFit {
  checkReturns(returns, 20);
  const [mu, v] = sampleMeanVar(returns);
  if (!(v > 0)) throw new DataError('GARCH needs returns with non-zero variance');
  const nll = (x: readonly number[]): number => -garchLogLikelihood(fromFree(x, mu), returns);
  let x = [logit(0.95 / MAX_PERSISTENCE), logit(0.1), Math.log(v * 0.05)];
  let iterations = 0;
  let res = nelderMead(nll, x, { maxIterations: 1500 });
  for (let restart = 0; restart < 2; restart++) {
    iterations += res.iterations;
    x = res.x;
    res = nelderMead(nll, x, { maxIterations: 1500, step: 0.2 });
  }
  iterations += res.iterations;
  const p = fromFree(res.x, mu);
  return { ...p, logLikelihood: -res.fx, iterations, converged: res.converged };
}

/**
 * Conditional variances: out[t] = sigma2 of returns[t] given returns[< t] (out[0] = sample variance
 * `initialVariance`), and out[n] = the one-step forecast after the last return.
 */
export function garchFilter(p: GarchParams, returns: ArrayLike<number>, initialVariance: number): Float64Array {
  const n = returns.length;
  const out = new Float64Array(n + 1);
  out[0] = initialVariance;
  for (let t = 1; t <= n; t++) {
    const e = returns[t - 1]! - p.mu;
    out[t] = p.omega + p.alpha * e * e + p.beta * out[t - 1]!;
  }
  return out;
}

/** Mean of the 1..h step variance forecasts given the next-step variance: V + (s2next - V) (1 - phi^h) / (h (1 - phi)). */
export function garchMeanForecastVariance(p: GarchParams, nextVariance: number, h: number): number {
  const phi = p.alpha + p.beta;
  const longRun = p.omega / (1 - phi);
  const factor = phi === 1 ? 1 : (1 - Math.pow(phi, h)) / (h * (1 - phi));
  return longRun + (nextVariance - longRun) * factor;
}

/**
 * EWMA variance (RiskMetrics): s2_{t+1} = lambda s2_t + (1 - lambda) r_t^2 (zero mean). out[t] is the
 * variance of returns[t] given returns[< t]; out[0] = initialVariance; out[n] the next-step forecast.
 * RiskMetrics (1996) daily lambda = 0.94.
 */
export function ewmaVariance(returns: ArrayLike<number>, lambda: number, initialVariance: number): Float64Array {
  const n = returns.length;
  const out = new Float64Array(n + 1);
  out[0] = initialVariance;
  for (let t = 1; t <= n; t++) out[t] = lambda * out[t - 1]! + (1 - lambda) * returns[t - 1]! ** 2;
  return out;
}

/** Simulates n returns of a GARCH(1,1) with standard normal innovations from `normal()` (for tests and benches). */
export function simulateGarch11(p: GarchParams, n: number, normal: () => number): Float64Array {
  const out = new Float64Array(n);
  let s2 = p.omega / (1 - p.alpha - p.beta);
  let e = 0;
  for (let t = 0; t < n; t++) {
    if (t > 0) s2 = p.omega + p.alpha * e * e + p.beta * s2;
    e = Math.sqrt(s2) * normal();
    out[t] = p.mu + e;
  }
  return out;
}
