/**
 * Gaussian hidden Markov model with diagonal covariances: Baum-Welch (EM) with the scaled
 * forward-backward recursions (Rabiner 1989; emissions shifted by their per-step maximum in log
 * space so tiny densities cannot underflow), Viterbi decoding in log space, and posteriors.
 * Observations are row-major [n, dim] Float64Arrays. Initialisation: seeded k-means++ plus Lloyd
 * iterations on standardised observations, sticky transitions.
 */
import { ConfigError, DataError, Rng } from '@task-agnostic/core';

export interface GaussianHmm {
  readonly states: number;
  readonly dim: number;
  readonly initial: readonly number[];
  /** transition[i][j] = P(state j at t+1 | state i at t). */
  readonly transition: readonly (readonly number[])[];
  readonly means: readonly (readonly number[])[];
  readonly variances: readonly (readonly number[])[];
}

export interface HmmFitOptions {
  readonly states: number;
  readonly maxIterations?: number;
  /** Stop when the log-likelihood gains less than this per observation. */
  readonly tolerance?: number;
  readonly seed?: number;
  /** Variance floor as a fraction of each dimension's overall variance (default 1e-3). */
  readonly varianceFloor?: number;
  /** Initial probability of staying in a state (default 0.95). */
  readonly initialStay?: number;
}

export interface HmmFitResult {
  readonly model: GaussianHmm;
  /** Log-likelihood of the data under the model before each M-step (then the final model's last). */
  readonly logLikelihoods: readonly number[];
  readonly converged: boolean;
}

const LOG_2PI = Math.log(2 * Math.PI);

function checkObs(obs: Float64Array, n: number, dim: number): void {
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(dim) || dim < 1 || obs.length < n * dim) {
    throw new DataError(`HMM observations: expected [${n}, ${dim}] values, got ${obs.length}`);
  }
  for (let i = 0; i < n * dim; i++) if (!Number.isFinite(obs[i]!)) throw new DataError(`HMM observations[${Math.floor(i / dim)}][${i % dim}] = ${obs[i]}: must be finite`);
}

/** log N(obs_t | state j) for all t, j: [n, k]. */
function logEmissions(m: GaussianHmm, obs: Float64Array, n: number): Float64Array {
  const k = m.states;
  const d = m.dim;
  const out = new Float64Array(n * k);
  const consts = m.variances.map((v) => -0.5 * v.reduce((s, x) => s + LOG_2PI + Math.log(x), 0));
  for (let t = 0; t < n; t++) {
    for (let j = 0; j < k; j++) {
      const mu = m.means[j]!;
      const va = m.variances[j]!;
      let s = consts[j]!;
      for (let q = 0; q < d; q++) {
        const e = obs[t * d + q]! - mu[q]!;
        s -= (0.5 * e * e) / va[q]!;
      }
      out[t * k + j] = s;
    }
  }
  return out;
}

interface ForwardBackward {
  readonly gamma: Float64Array;
  readonly xiSum: Float64Array;
  readonly logLikelihood: number;
}

function forwardBackward(m: GaussianHmm, obs: Float64Array, n: number, initial: readonly number[], wantXi: boolean): ForwardBackward {
  const k = m.states;
  const logB = logEmissions(m, obs, n);
  const A = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) A[i * k + j] = m.transition[i]![j]!;
  const b = new Float64Array(n * k);
  const alpha = new Float64Array(n * k);
  const scale = new Float64Array(n);
  let ll = 0;
  for (let t = 0; t < n; t++) {
    let mx = -Infinity;
    for (let j = 0; j < k; j++) mx = Math.max(mx, logB[t * k + j]!);
    for (let j = 0; j < k; j++) b[t * k + j] = Math.exp(logB[t * k + j]! - mx);
    let c = 0;
    for (let j = 0; j < k; j++) {
      let p = 0;
      if (t === 0) p = initial[j]!;
      else for (let i = 0; i < k; i++) p += alpha[(t - 1) * k + i]! * A[i * k + j]!;
      const a = p * b[t * k + j]!;
      alpha[t * k + j] = a;
      c += a;
    }
    if (!(c > 0)) c = Number.MIN_VALUE;
    for (let j = 0; j < k; j++) alpha[t * k + j]! /= c;
    scale[t] = c;
    ll += Math.log(c) + mx;
  }
  const beta = new Float64Array(n * k);
  for (let j = 0; j < k; j++) beta[(n - 1) * k + j] = 1;
  const xiSum = new Float64Array(k * k);
  for (let t = n - 2; t >= 0; t--) {
    for (let i = 0; i < k; i++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += A[i * k + j]! * b[(t + 1) * k + j]! * beta[(t + 1) * k + j]!;
      beta[t * k + i] = s / scale[t + 1]!;
    }
    if (wantXi) {
      for (let i = 0; i < k; i++) {
        const ai = alpha[t * k + i]!;
        for (let j = 0; j < k; j++) {
          xiSum[i * k + j]! += (ai * A[i * k + j]! * b[(t + 1) * k + j]! * beta[(t + 1) * k + j]!) / scale[t + 1]!;
        }
      }
    }
  }
  const gamma = new Float64Array(n * k);
  for (let t = 0; t < n; t++) {
    let s = 0;
    for (let j = 0; j < k; j++) s += (gamma[t * k + j] = alpha[t * k + j]! * beta[t * k + j]!);
    for (let j = 0; j < k; j++) gamma[t * k + j]! /= s > 0 ? s : 1;
  }
  return { gamma, xiSum, logLikelihood: ll };
}

/** log P(observations | model). */
export function hmmLogLikelihood(m: GaussianHmm, obs: Float64Array, n: number): number {
  checkObs(obs, n, m.dim);
  return forwardBackward(m, obs, n, m.initial, false).logLikelihood;
}

/** Posterior state probabilities P(state_t = j | all observations): [n, k]. `initial` defaults to the model's. */
export function hmmPosteriors(m: GaussianHmm, obs: Float64Array, n: number, initial: readonly number[] = m.initial): Float64Array {
  checkObs(obs, n, m.dim);
  return forwardBackward(m, obs, n, initial, false).gamma;
}

/** The most likely state path (Viterbi, log space). */
export function viterbi(m: GaussianHmm, obs: Float64Array, n: number): Int32Array {
  checkObs(obs, n, m.dim);
  const k = m.states;
  const logB = logEmissions(m, obs, n);
  const logA = m.transition.map((row) => row.map((p) => Math.log(p)));
  let delta = m.initial.map((p, j) => Math.log(p) + logB[j]!);
  const back = new Int32Array(n * k);
  for (let t = 1; t < n; t++) {
    const next = new Array<number>(k);
    for (let j = 0; j < k; j++) {
      let best = -Infinity;
      let arg = 0;
      for (let i = 0; i < k; i++) {
        const v = delta[i]! + logA[i]![j]!;
        if (v > best) {
          best = v;
          arg = i;
        }
      }
      next[j] = best + logB[t * k + j]!;
      back[t * k + j] = arg;
    }
    delta = next;
  }
  const path = new Int32Array(n);
  let last = 0;
  for (let j = 1; j < k; j++) if (delta[j]! > delta[last]!) last = j;
  path[n - 1] = last;
  for (let t = n - 1; t > 0; t--) path[t - 1] = back[t * k + path[t]!]!;
  return path;
}

/** Stationary distribution of the transition matrix (power iteration). */
export function stationaryDistribution(transition: readonly (readonly number[])[]): number[] {
  const k = transition.length;
  let p = new Array<number>(k).fill(1 / k);
  for (let it = 0; it < 10_000; it++) {
    const q = new Array<number>(k).fill(0);
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) q[j]! += p[i]! * transition[i]![j]!;
    const diff = q.reduce((s, v, j) => s + Math.abs(v - p[j]!), 0);
    p = q;
    if (diff < 1e-13) break;
  }
  const s = p.reduce((a, b) => a + b, 0);
  return p.map((v) => v / s);
}

function kMeansInit(obs: Float64Array, n: number, d: number, k: number, rng: Rng): { means: number[][]; variances: number[][]; globalVar: number[] } {
  const mean = new Array<number>(d).fill(0);
  const gv = new Array<number>(d).fill(0);
  for (let t = 0; t < n; t++) for (let q = 0; q < d; q++) mean[q]! += obs[t * d + q]! / n;
  for (let t = 0; t < n; t++) for (let q = 0; q < d; q++) gv[q]! += (obs[t * d + q]! - mean[q]!) ** 2 / n;
  const sd = gv.map((v) => Math.sqrt(v) || 1);
  const zs = new Float64Array(n * d);
  for (let t = 0; t < n; t++) for (let q = 0; q < d; q++) zs[t * d + q] = (obs[t * d + q]! - mean[q]!) / sd[q]!;
  const z = (t: number, q: number): number => zs[t * d + q]!;
  const dist = (t: number, c: readonly number[]): number => {
    let s = 0;
    for (let q = 0; q < d; q++) s += (z(t, q) - c[q]!) ** 2;
    return s;
  };
  const centers: number[][] = [];
  const first = rng.int(n);
  centers.push(Array.from({ length: d }, (_, q) => z(first, q)));
  const dmin = new Float64Array(n).fill(Infinity);
  while (centers.length < k) {
    let total = 0;
    for (let t = 0; t < n; t++) total += dmin[t] = Math.min(dmin[t]!, dist(t, centers[centers.length - 1]!));
    let u = rng.next() * total;
    let pick = n - 1;
    for (let t = 0; t < n; t++) if ((u -= dmin[t]!) <= 0) { pick = t; break; }
    centers.push(Array.from({ length: d }, (_, q) => z(pick, q)));
  }
  const assign = new Int32Array(n);
  for (let it = 0; it < 30; it++) {
    for (let t = 0; t < n; t++) {
      let best = 0;
      let bestD = dist(t, centers[0]!);
      for (let j = 1; j < k; j++) {
        const dj = dist(t, centers[j]!);
        if (dj < bestD) {
          bestD = dj;
          best = j;
        }
      }
      assign[t] = best;
    }
    const sums = centers.map(() => new Array<number>(d + 1).fill(0));
    for (let t = 0; t < n; t++) {
      const s = sums[assign[t]!]!;
      for (let q = 0; q < d; q++) s[q]! += z(t, q);
      s[d]! += 1;
    }
    sums.forEach((s, j) => { if (s[d]! > 0) centers[j] = s.slice(0, d).map((v) => v / s[d]!); });
  }
  const means = centers.map((c) => c.map((v, q) => mean[q]! + v * sd[q]!));
  const variances = centers.map(() => gv.slice());
  return { means, variances, globalVar: gv };
}

/** Baum-Welch: EM from a seeded k-means start until the per-observation gain is below `tolerance`. */
export function fitGaussianHmm(obs: Float64Array, n: number, dim: number, options: HmmFitOptions): HmmFitResult {
  const k = options.states;
  if (!Number.isInteger(k) || k < 1) throw new ConfigError(`must be a positive integer, got ${k}`, 'states');
  checkObs(obs, n, dim);
  if (n < 2 * k) throw new DataError(`HMM: need at least ${2 * k} observations for ${k} states, got ${n}`);
  const maxIt = options.maxIterations ?? 100;
  const tol = options.tolerance ?? 1e-6;
  const stay = options.initialStay ?? 0.95;
  const rng = new Rng(options.seed ?? 0).split('hmm');
  const init = kMeansInit(obs, n, dim, k, rng);
  const floor = init.globalVar.map((v) => Math.max(1e-300, v * (options.varianceFloor ?? 1e-3)));
  let model: GaussianHmm = {
    states: k,
    dim,
    initial: new Array<number>(k).fill(1 / k),
    transition: Array.from({ length: k }, (_, i) => Array.from({ length: k }, (_, j) => (k === 1 ? 1 : i === j ? stay : (1 - stay) / (k - 1)))),
    means: init.means,
    variances: init.variances,
  };
  const lls: number[] = [];
  let converged = false;
  for (let it = 0; it < maxIt; it++) {
    const fb = forwardBackward(model, obs, n, model.initial, true);
    lls.push(fb.logLikelihood);
    if (it > 0 && fb.logLikelihood - lls[it - 1]! < tol * n) {
      converged = true;
      break;
    }
    const g = fb.gamma;
    const initial = Array.from({ length: k }, (_, j) => Math.max(g[j]!, 1e-12));
    const transition = Array.from({ length: k }, (_, i) => {
      let s = 0;
      for (let j = 0; j < k; j++) s += fb.xiSum[i * k + j]!;
      const row = Array.from({ length: k }, (_, j) => (s > 0 ? Math.max(fb.xiSum[i * k + j]! / s, 1e-12) : 1 / k));
      const rs = row.reduce((a, b) => a + b, 0);
      return row.map((v) => v / rs);
    });
    const means: number[][] = [];
    const variances: number[][] = [];
    for (let j = 0; j < k; j++) {
      let w = 0;
      const mu = new Array<number>(dim).fill(0);
      for (let t = 0; t < n; t++) {
        const gt = g[t * k + j]!;
        w += gt;
        for (let q = 0; q < dim; q++) mu[q]! += gt * obs[t * dim + q]!;
      }
      if (!(w > 1e-9)) {
        means.push(model.means[j]!.slice());
        variances.push(model.variances[j]!.slice());
        continue;
      }
      for (let q = 0; q < dim; q++) mu[q]! /= w;
      const va = new Array<number>(dim).fill(0);
      for (let t = 0; t < n; t++) {
        const gt = g[t * k + j]!;
        for (let q = 0; q < dim; q++) va[q]! += gt * (obs[t * dim + q]! - mu[q]!) ** 2;
      }
      means.push(mu);
      variances.push(va.map((v, q) => Math.max(v / w, floor[q]!)));
    }
    const si = initial.reduce((a, b) => a + b, 0);
    model = { states: k, dim, initial: initial.map((v) => v / si), transition, means, variances };
  }
  if (!converged) lls.push(hmmLogLikelihood(model, obs, n));
  return { model, logLikelihoods: lls, converged };
}
