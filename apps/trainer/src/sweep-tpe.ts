/**
 * Tree-structured Parzen estimator (Bergstra et al. 2011, "Algorithms for Hyper-Parameter
 * Optimization"), the model-based strategy of `trainer sweep --strategy tpe`.
 *
 * After `startup` random trials, the finished trials are split at the gamma-quantile of the loss
 * into good and bad; each parameter gets a Parzen density of the good values, l(x), and of the
 * bad values, g(x) (on the [0, 1] scale of sweep-space's encode: log ranges in the log; a
 * truncated Gaussian per observation plus a wide prior component; choices: smoothed counts).
 * Candidates are drawn from l and the one with the highest l(x)/g(x) (summed over parameters in
 * the log, as the parameters are modelled independently) is proposed. Failed trials count as bad.
 * No npm library implements TPE for JavaScript (hyperopt and Optuna are Python), hence this file.
 */
import { normalCdf, type Rng } from '@task-agnostic/core';
import { decode, encode, samplePoint, type ParamSpec, type Params, type SearchSpace } from './sweep-space.js';

export interface Observation {
  readonly params: Params;
  /** Lower is better; null for a failed trial (counted among the bad). */
  readonly loss: number | null;
}

export interface TpeOptions {
  /** Random trials before the model is used (default 10, at least 2). */
  readonly startup?: number;
  /** Fraction of the finished trials counted as good (default 0.25). */
  readonly gamma?: number;
  /** Candidates drawn from l(x) per proposal (default 24). */
  readonly candidates?: number;
}

interface Kernel {
  readonly mu: number;
  readonly sigma: number;
  readonly weight: number;
  /** Mass of N(mu, sigma) inside [0, 1]. */
  readonly mass: number;
}

const PRIOR: Omit<Kernel, 'mass'> = { mu: 0.5, sigma: 1, weight: 1 };

function kernel(k: Omit<Kernel, 'mass'>): Kernel {
  return { ...k, mass: Math.max(1e-12, normalCdf((1 - k.mu) / k.sigma) - normalCdf(-k.mu / k.sigma)) };
}

/** The Parzen mixture of points in [0, 1]: one truncated Gaussian each (Scott's bandwidth, clipped) and the prior. */
export function parzen(points: readonly number[]): Kernel[] {
  const n = points.length;
  const mean = n ? points.reduce((a, b) => a + b, 0) / n : 0.5;
  const sd = n > 1 ? Math.sqrt(points.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0.5;
  const sigma = Math.min(0.5, Math.max(0.05, 1.06 * sd * n ** -0.2));
  return [...points.map((mu) => kernel({ mu, sigma, weight: 1 })), kernel(PRIOR)];
}

/** Density of the truncated mixture at u. */
export function parzenDensity(ks: readonly Kernel[], u: number): number {
  const total = ks.reduce((a, k) => a + k.weight, 0);
  let p = 0;
  for (const k of ks) p += (k.weight * Math.exp(-0.5 * ((u - k.mu) / k.sigma) ** 2)) / (k.sigma * Math.sqrt(2 * Math.PI) * k.mass);
  return p / total;
}

function parzenSample(ks: readonly Kernel[], rng: Rng): number {
  const total = ks.reduce((a, k) => a + k.weight, 0);
  let r = rng.next() * total;
  let k = ks[ks.length - 1]!;
  for (const c of ks) {
    if ((r -= c.weight) < 0) {
      k = c;
      break;
    }
  }
  for (let i = 0; i < 100; i++) {
    const u = rng.normal(k.mu, k.sigma);
    if (u >= 0 && u <= 1) return u;
  }
  return Math.min(1, Math.max(0, k.mu));
}

/** Smoothed category probabilities (one pseudo-count each). */
function categorical(p: Extract<ParamSpec, { type: 'choice' }>, values: readonly unknown[]): number[] {
  const counts = p.values.map(() => 1);
  for (const v of values) {
    const i = p.values.findIndex((x) => x === v);
    if (i >= 0) counts[i]!++;
  }
  const s = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => c / s);
}

/** The next trial's parameters given the finished ones. */
export function suggestTpe(space: SearchSpace, history: readonly Observation[], rng: Rng, o: TpeOptions = {}): Params {
  const startup = Math.max(2, o.startup ?? 10);
  const gamma = o.gamma ?? 0.25;
  const nCand = o.candidates ?? 24;
  const ok = history.filter((h) => h.loss !== null && Number.isFinite(h.loss)).sort((a, b) => a.loss! - b.loss!);
  if (history.length < startup || ok.length < 1) return samplePoint(space, rng);
  const nGood = Math.max(1, Math.ceil(gamma * ok.length));
  const good = ok.slice(0, nGood);
  const bad = [...ok.slice(nGood), ...history.filter((h) => !(h.loss !== null && Number.isFinite(h.loss)))];
  const models = space.names.map((name) => {
    const p = space.params[name]!;
    if (p.type === 'choice') {
      return { kind: 'choice' as const, name, p, l: categorical(p, good.map((h) => h.params[name])), g: categorical(p, bad.map((h) => h.params[name])) };
    }
    return { kind: 'number' as const, name, p, lk: parzen(good.map((h) => encode(p, h.params[name]!))), gk: parzen(bad.map((h) => encode(p, h.params[name]!))) };
  });
  let best: Params | null = null;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (let c = 0; c < nCand; c++) {
    const cand: Params = {};
    let score = 0;
    for (const m of models) {
      if (m.kind === 'choice') {
        let r = rng.next();
        let i = 0;
        while (i < m.l.length - 1 && (r -= m.l[i]!) >= 0) i++;
        cand[m.name] = m.p.values[i]!;
        score += Math.log(m.l[i]!) - Math.log(m.g[i]!);
      } else {
        const u = parzenSample(m.lk, rng);
        const v = decode(m.p, u);
        cand[m.name] = v;
        // score where the value landed (ints are rounded), so the ratio is of the proposed value
        const at = encode(m.p, v);
        score += Math.log(parzenDensity(m.lk, at)) - Math.log(parzenDensity(m.gk, at));
      }
    }
    if (score > bestScore) {
      bestScore = score;
      best = cand;
    }
  }
  return best ?? samplePoint(space, rng);
}
