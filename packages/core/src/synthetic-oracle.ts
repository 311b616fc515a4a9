import { REGIMES } from './task-outputs.js';
import type { SyntheticMarket } from './synthetic.js';

/**
 * The ORACLE regime filter of a synthetic market: what the generator's own model can say about
 * the regime of bar t from bars <= t (no future). A forward (Hamilton) filter over the five regimes
 * with the generator's transition matrix (stay 1 - 1/meanRegimeBars, else uniform to another) and
 * its per-regime drift and volatility, Student-t(tailDf) emissions scaled to unit variance, and the
 * GARCH multiplier tracked causally (its recursion fed with the posterior mean of z^2, capped so
 * jumps do not blow it up). The mean-reversion term is left out (it needs the spell's start,
 * which a filter does not know), so the oracle is conservative: a regime that differs only by its
 * reversion is harder for it than for the best possible filter.
 *
 * It bounds what a causal model can be asked to do: if the oracle cannot recover the regimes, no
 * model trained on prices can. `knownVolatility: true` gives it the true conditional volatility
 * of every bar as well (generous: not observable).
 */
export interface RegimeFilterOptions {
  readonly knownVolatility?: boolean;
}

export interface RegimeFilterResult {
  /** Filtered probabilities P(regime of bar t | bars <= t), [n, 5] in REGIMES order. */
  readonly probs: Float64Array;
  /** The most probable regime of each bar (argmax of probs, ties to the lower index). */
  readonly map: Uint8Array;
}

/** log density of a unit-variance Student-t(df) at z (up to a constant) and the log of its scale. */
function logStudent(z: number, df: number): number {
  const s = Math.sqrt((df - 2) / df);
  const u = z / s;
  return -0.5 * (df + 1) * Math.log(1 + (u * u) / df) - Math.log(s);
}

const Z2_CAP = 25;

export function filterSyntheticRegimes(market: SyntheticMarket, options: RegimeFilterOptions = {}): RegimeFilterResult {
  const o = market.options;
  const c = market.candles;
  const n = c.length;
  const K = REGIMES.length;
  const params = REGIMES.map((r) => o.regimes[r]);
  const stay = 1 - 1 / o.meanRegimeBars;
  const move = (1 - stay) / (K - 1);
  const probs = new Float64Array(n * K);
  const map = new Uint8Array(n);
  let p = new Float64Array(K).fill(1 / K);
  let m = 1;
  let z2 = 1;
  const ll = new Float64Array(K);
  const zk = new Float64Array(K);
  for (let i = 0; i < n; i++) {
    if (i > 0) {
      const r = Math.log(c.close[i]! / c.close[i - 1]!);
      m = 1 - o.garchAlpha - o.garchBeta + o.garchAlpha * z2 * m + o.garchBeta * m;
      let mx = -Infinity;
      for (let k = 0; k < K; k++) {
        const q = params[k]!;
        const sd = options.knownVolatility ? market.sigma[i]! * (q.vol / params[market.regimes[i]!]!.vol) : q.vol * Math.sqrt(m);
        zk[k] = (r - q.drift) / sd;
        ll[k] = logStudent(zk[k]!, o.tailDf) - Math.log(sd);
        if (ll[k]! > mx) mx = ll[k]!;
      }
      const post = new Float64Array(K);
      let sum = 0;
      for (let k = 0; k < K; k++) {
        post[k] = (p[k]! * stay + (1 - p[k]!) * move) * Math.exp(ll[k]! - mx);
        sum += post[k]!;
      }
      z2 = 0;
      for (let k = 0; k < K; k++) {
        post[k]! /= sum;
        z2 += post[k]! * Math.min(Z2_CAP, zk[k]! * zk[k]!);
      }
      p = post;
    }
    let best = 0;
    for (let k = 0; k < K; k++) {
      probs[i * K + k] = p[k]!;
      if (p[k]! > p[best]!) best = k;
    }
    map[i] = best;
  }
  return { probs, map };
}
